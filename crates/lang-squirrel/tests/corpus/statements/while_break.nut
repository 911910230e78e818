local i = 0; while (true) { i++; if (i > 4) break; } print(i + "\n");
