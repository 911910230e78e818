local f = compilestring("return 1 + 2;"); print(f() + "\n");
