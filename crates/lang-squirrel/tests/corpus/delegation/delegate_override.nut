local base = {v = 1, function get() { return v; }}; local t = {v = 2}.setdelegate(base); print(t.get() + " " + base.get() + "\n"); t.setdelegate(null); print((t.getdelegate() == null) + "\n");
