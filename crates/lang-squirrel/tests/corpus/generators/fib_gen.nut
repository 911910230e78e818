function fibs() { local a = 0, b = 1; while (true) { yield a; local t = a + b; a = b; b = t; } } local g = fibs(); for (local i = 0; i < 10; i++) print(resume g + " "); print("\n");
