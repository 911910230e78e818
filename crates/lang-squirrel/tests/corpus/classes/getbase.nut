class A {} class B extends A {} print((B.getbase() == A) + " " + (A.getbase() == null) + "\n");
