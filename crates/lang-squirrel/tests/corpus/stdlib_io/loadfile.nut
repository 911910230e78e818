local f = loadfile("helper.lib"); print(typeof f + "\n"); local r = f(); print(r + "\n");
