function even(n) { return n == 0 ? true : odd(n - 1); } function odd(n) { return n == 0 ? false : even(n - 1); } print(even(10) + " " + odd(7) + "\n");
