function f(...) { return vargv.len(); } print(f() + " " + f(1) + " " + f(1, 2, 3, 4) + "\n");
