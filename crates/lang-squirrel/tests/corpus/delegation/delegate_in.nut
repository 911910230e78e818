local d = {x = 1}; local t = {}.setdelegate(d); print(("x" in t) + " " + t.rawin("x") + "\n");
