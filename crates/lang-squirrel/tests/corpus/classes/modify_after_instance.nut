class Q { a = 1; } local q = Q(); Q.b <- 2;
