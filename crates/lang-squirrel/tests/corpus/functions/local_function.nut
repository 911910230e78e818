local function sq(x) { return x * x; } print(sq(9) + "\n");
