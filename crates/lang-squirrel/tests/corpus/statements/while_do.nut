local i = 0; while (i < 3) { print(i + "\n"); i++; } do { print("do " + i + "\n"); i--; } while (i > 0);
