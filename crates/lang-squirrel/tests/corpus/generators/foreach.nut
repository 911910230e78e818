function range(n) { for (local i = 0; i < n; i++) yield i * i; } foreach (v in range(5)) print(v + " "); print("\n");
