local s = 0; for (local i = 0; i < 5; i++) for (local j = 0; j < 5; j++) { if (j > i) break; s += i * j; } print(s + "\n");
