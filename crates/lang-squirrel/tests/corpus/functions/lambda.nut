local sq = @(x) x * x; print(sq(7) + "\n"); print([1,2,3].map(@(v) v * 10).reduce(@(a, b) a + b) + "\n");
