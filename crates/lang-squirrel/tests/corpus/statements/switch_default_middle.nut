function f(x) { local r = ""; switch (x) { case 1: r = "one"; break; default: r = "dflt"; } return r; } print(f(1) + " " + f(2) + "\n");
