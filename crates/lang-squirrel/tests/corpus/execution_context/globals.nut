g1 <- 1; function bump() { g1++; } bump(); bump(); print(g1 + "\n");
