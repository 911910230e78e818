local a = [{n = "b", v = 2}, {n = "a", v = 1}, {n = "c", v = 3}]; a.sort(@(x, y) x.v <=> y.v); foreach (e in a) print(e.n); print("\n");
