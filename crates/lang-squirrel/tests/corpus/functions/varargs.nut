function f(a, ...) { local s = a; foreach (v in vargv) s += v; return s + " " + vargv.len(); } print(f(1) + "\n"); print(f(1, 2, 3) + "\n");
