function find(a, x) { foreach (i, v in a) if (v == x) return i; return -1; } print(find([5, 6, 7], 7) + " " + find([1], 9) + "\n");
