class K { a = 1; function f() {} } local n = 0; foreach (k, v in K) n++; print(n + "\n");
