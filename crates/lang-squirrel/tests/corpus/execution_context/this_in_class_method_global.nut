G <- 5; class K { function f() { return G + 1; } } print(K().f() + "\n");
