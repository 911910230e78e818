class X { a = 1; function f() {} } local x = X(); print(x.rawin("a") + " " + x.rawin("f") + " " + x.rawin("z") + "\n");
