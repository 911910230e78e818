function make() { local c = 0; return { inc = function() { c++; return c; }, get = function() { return c; } }; } local o = make(); o.inc(); o.inc(); print(o.get() + "\n");
