class P { v = 1; function _cloned(o) { v = o.v + 100; } } local p = P(); p.v = 5; local c = clone p; print(c.v + " " + p.v + "\n");
