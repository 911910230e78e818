local t = {a = 1, b = "two", ["c"] = 3.5}; print(t.a + " " + t.b + " " + t["c"] + " " + t.len() + "\n"); t.d <- 4; t.a = 10; print(t.a + t.d + "\n");
