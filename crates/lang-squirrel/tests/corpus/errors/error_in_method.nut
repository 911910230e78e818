class A { function f(x) { return x.y; } } A().f({});
