local a = [1, 2, 3, 4]; foreach (v in a.slice(-3, -1)) print(v); print("\n");
