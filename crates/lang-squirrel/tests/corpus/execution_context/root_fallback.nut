gv <- 10; local t = {function f() { return gv; }}; print(t.f() + "\n");
