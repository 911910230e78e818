local fact; fact = function(n) { return n < 2 ? 1 : n * fact(n - 1); }; print(fact(10) + "\n");
