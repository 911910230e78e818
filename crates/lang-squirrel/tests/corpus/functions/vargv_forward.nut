function sum(...) { local s = 0; foreach (v in vargv) s += v; return s; } function fwd(...) { return sum.acall([this].extend(vargv)); } print(fwd(1, 2, 3) + "\n");
