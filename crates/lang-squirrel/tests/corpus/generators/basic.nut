function gen() { yield 1; yield 2; yield 3; } local g = gen(); print(resume g); print(resume g); print(resume g); print("\n");
