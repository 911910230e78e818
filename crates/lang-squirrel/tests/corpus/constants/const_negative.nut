const N = -5; const F = -1.5; print(N + " " + F + "\n");
