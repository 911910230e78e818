local t = {a = 1, b = 2}; print(("a" in t) + " " + ("z" in t) + "\n"); delete t.a; print(("a" in t) + " " + t.len() + "\n"); print((1 in [5,6]) + " " + (2 in [5,6]) + "\n");
