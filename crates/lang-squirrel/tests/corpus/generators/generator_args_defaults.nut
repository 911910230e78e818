function g(a, b = 2) { yield a; yield b; } foreach (v in g(1)) print(v); print("\n");
