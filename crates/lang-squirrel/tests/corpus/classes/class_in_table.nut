local ns = {}; ns.Point <- class { x = 1; function dbl() { return x * 2; } }; print(ns.Point().dbl() + "\n");
