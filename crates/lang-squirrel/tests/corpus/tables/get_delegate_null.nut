local t = {}; print(t.getdelegate() + "\n");
