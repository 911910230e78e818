local a, b; a = b = 5; print(a + " " + b + "\n"); local t = {}; t.x <- t.y <- 3; print(t.x + " " + t.y + "\n");
