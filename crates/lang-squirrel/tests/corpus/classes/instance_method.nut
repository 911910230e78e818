class A { v = 3; } local a = A.instance(); print(typeof a + " " + a.v + "\n");
