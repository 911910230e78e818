local s = "abc"; print(s[0] + " " + s[2] + "\n");
