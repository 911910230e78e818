local b = blob(2); b[0] = 7; local c = clone b; c[0] = 9; print(b[0] + " " + c[0] + "\n");
