class A { a = 1; } class B extends A { b = 2; } local x = B(); print(x.a + " " + x.b + "\n");
