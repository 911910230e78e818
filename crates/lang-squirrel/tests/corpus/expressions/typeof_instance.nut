class A {} print(typeof A + " " + typeof A() + "\n");
