function f(x) { if (x < 0) return "neg"; else if (x == 0) return "zero"; else return "pos"; } print(f(-1) + f(0) + f(5) + "\n");
