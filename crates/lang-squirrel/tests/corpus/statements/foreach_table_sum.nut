local t = {a = 1, b = 2, c = 3}; local s = 0; foreach (v in t) s += v; print(s + "\n");
