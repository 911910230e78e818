local s = "abcabc"; print(s.find("b") + " " + s.find("b", 2) + " " + s.find("") + "\n");
