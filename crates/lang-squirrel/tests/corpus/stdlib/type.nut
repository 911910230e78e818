print(type(1) + " " + type("s") + " " + type(null) + "\n");
