class A {} class B extends A {} class C extends B {} local c = C(); print((c instanceof A) + " " + (c instanceof B) + " " + (c instanceof C) + "\n");
