local i = 0; for (;;) { if (++i == 3) break; } print(i + "\n"); for (local j = 0; j < 2;) { print(j + "\n"); j++; }
