local s = "abcdef"; print(s.slice(-3) + " " + s.slice(1, -1) + " " + s.slice(2, 4) + "\n");
