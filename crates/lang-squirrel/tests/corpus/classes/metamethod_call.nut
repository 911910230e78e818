class F { function _call(that, x) { return x * 3; } } local f = F(); print(f(4) + "\n");
