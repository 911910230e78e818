local r = dofile("helper.lib"); print(r + " " + helper(1) + "\n");
