class P { v = 0; constructor(x) { v = x; } function _cmp(o) { return v - o.v; } } local a = P(1), b = P(1); print((a == b) + " " + (a <= b) + " " + (a >= b) + "\n");
