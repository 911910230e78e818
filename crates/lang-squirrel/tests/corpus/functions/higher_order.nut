function compose(f, g) { return @(x) f(g(x)); } local inc = @(x) x + 1; local dbl = @(x) x * 2; print(compose(inc, dbl)(5) + " " + compose(dbl, inc)(5) + "\n");
