local vec = {function _add(o) { return this.v + o.v; }}; local a = {v = 1}.setdelegate(vec); local b = {v = 2}; print((a + b) + "\n");
