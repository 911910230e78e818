local t = {v = 1}; local w = t.weakref(); print(w.ref().v + "\n"); local n = (5).weakref(); print(n + "\n");
