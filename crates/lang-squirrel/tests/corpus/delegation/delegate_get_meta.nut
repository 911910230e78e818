local d = {function _get(k) { return "dyn_" + k; }}; local t = {}.setdelegate(d); print(t.foo + "\n");
