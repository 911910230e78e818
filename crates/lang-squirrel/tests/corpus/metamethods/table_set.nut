local d = {function _set(k, v) { print("set " + k + "=" + v + "\n"); }}; local t = {}.setdelegate(d); t.zz = 5;
