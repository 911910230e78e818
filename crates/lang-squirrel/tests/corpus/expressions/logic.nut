local a = null; local b = a || "dflt"; local c = 1 && 2; print(b + " " + c + " " + (!0) + " " + (!1) + "\n");
