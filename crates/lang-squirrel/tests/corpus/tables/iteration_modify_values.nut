local t = {a = 1, b = 2}; foreach (k, v in t) t[k] = v * 10; print(t.a + " " + t.b + "\n");
