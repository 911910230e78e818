local obj = {n = 3, f = function() { return this.n * 2; }}; print(obj.f() + "\n"); local g = obj.f; print(g.call({n = 10}) + "\n");
