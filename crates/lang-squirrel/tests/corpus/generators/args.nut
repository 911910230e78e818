function rep(x, n) { for (local i = 0; i < n; i++) yield x; } foreach (v in rep("ab", 3)) print(v); print("\n");
