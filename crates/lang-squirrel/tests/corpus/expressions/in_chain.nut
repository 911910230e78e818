local t = {a = {b = 1}}; print(("b" in t.a) && ("a" in t)); print("\n");
