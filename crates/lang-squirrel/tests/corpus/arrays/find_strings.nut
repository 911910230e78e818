local a = ["x", "y", "z"]; print(a.find("z") + "\n");
