local n = 0; do { n++; } while (false); print(n + "\n");
