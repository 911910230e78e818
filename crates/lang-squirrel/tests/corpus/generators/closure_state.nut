function counter(start) { local n = start; while (true) { yield n; n += 2; } } local g = counter(3); print(resume g); print(resume g); print(resume g); print("\n");
