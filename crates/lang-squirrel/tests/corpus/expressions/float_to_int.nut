print((7.9).tointeger() + " " + (-7.9).tointeger() + " " + (1e3).tointeger() + "\n");
