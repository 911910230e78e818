local w = split("pear fig apple", " "); w.sort(); print(w[0] + " " + w[2] + "\n");
