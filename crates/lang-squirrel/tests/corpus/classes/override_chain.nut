class A { function f() { return "A"; } } class B extends A { function f() { return "B" + base.f(); } } class C extends B { function f() { return "C" + base.f(); } } print(C().f() + "\n");
