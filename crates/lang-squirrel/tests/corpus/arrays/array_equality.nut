local a = [1]; local b = a; local c = [1]; print((a == b) + " " + (a == c) + "\n");
