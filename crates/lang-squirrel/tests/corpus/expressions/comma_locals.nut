local a = 1, b = 2, c; print(a + " " + b + " " + c + "\n");
