class A { n = 4; function f() { return n; } } local a = A(); local m = a.f; print(m.call(a) + "\n");
