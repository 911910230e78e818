local a = {x = "from a"}; local b = {}.setdelegate(a); local c = {}.setdelegate(b); print(c.x + "\n");
