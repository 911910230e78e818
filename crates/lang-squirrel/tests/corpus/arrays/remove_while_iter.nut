local a = [1, 2, 3, 4, 5, 6]; local i = 0; while (i < a.len()) { if (a[i] % 2 == 0) a.remove(i); else i++; } foreach (v in a) print(v); print("\n");
