function adder(k) { return @(x) x + k; } local add5 = adder(5); local add10 = adder(10); print(add5(1) + " " + add10(1) + "\n");
