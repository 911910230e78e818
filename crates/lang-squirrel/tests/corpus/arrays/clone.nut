local a = [1, [2, 3]]; local b = clone a; b[0] = 9; b[1][0] = 8; print(a[0] + " " + a[1][0] + " " + b[0] + "\n");
