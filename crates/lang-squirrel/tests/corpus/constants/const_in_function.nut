const K = 7; function f() { return K * 2; } print(f() + "\n");
