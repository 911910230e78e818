class M { v = 0; constructor(x) { v = x; } function _div(o) { return M(v / o); } function _modulo(o) { return M(v % o); } } print((M(17) / 2).v + " " + (M(17) % 5).v + "\n");
