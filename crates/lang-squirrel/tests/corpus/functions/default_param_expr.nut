local base = 10; function f(a, b = 2 * 3) { return a + b; } print(f(1) + "\n");
