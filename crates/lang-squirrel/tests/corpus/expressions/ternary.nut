for (local i = 0; i < 4; i++) print((i % 2 == 0 ? "even" : "odd") + "\n");
