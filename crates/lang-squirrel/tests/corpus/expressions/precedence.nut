print(2 + 3 * 4 - 6 / 2 + "\n"); print((2 + 3) * 4 + "\n"); print(1 + 2 << 1); print("\n"); print((1 | 2 & 3) + " " + (5 ^ 1 | 2) + "\n"); print((1 < 2 == true) + "\n");
