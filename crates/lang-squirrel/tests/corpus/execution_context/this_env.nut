local t = {v = 42, function get() { return this.v; }}; print(t.get() + "\n"); function free() { return typeof this; } print(free() + "\n");
