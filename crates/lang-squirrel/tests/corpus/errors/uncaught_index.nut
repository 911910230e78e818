local t = {a = 1}; local n = t.b;
