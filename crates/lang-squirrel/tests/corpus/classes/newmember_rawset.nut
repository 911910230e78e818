class A { } A.rawset("x", 5); A.newmember("y", 6); local a = A(); print(a.x + " " + a.y + "\n");
