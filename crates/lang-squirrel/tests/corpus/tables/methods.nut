local t = {v = 3, function get() { return v; }, dbl = function() { return v * 2; }}; print(t.get() + " " + t.dbl() + "\n");
