local t = {}; for (local i = 0; i < 100; i++) t[i] <- i * i; local s = 0; foreach (k, v in t) s += v; print(s + " " + t[99] + "\n");
