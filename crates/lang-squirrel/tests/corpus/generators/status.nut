function g() { yield 1; } local x = g(); print(x.getstatus() + "\n"); resume x; print(x.getstatus() + "\n"); resume x; print(x.getstatus() + "\n");
