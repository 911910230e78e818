local t = {a = 1}; local u = clone t; u.a = 2; print(t.a + " " + u.a + "\n");
