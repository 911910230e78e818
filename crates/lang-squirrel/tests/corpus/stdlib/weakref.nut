local t = {}; local w = t.weakref(); print((w.ref() == t) + "\n"); print(typeof w + "\n");
