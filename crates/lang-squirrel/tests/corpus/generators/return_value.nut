function g() { yield 1; return 99; } local x = g(); print(resume x); print(" "); print(resume x); print("\n");
