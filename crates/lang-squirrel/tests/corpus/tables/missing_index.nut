local t = {}; print(t.nothing);
