local s = "Hello World"; print(s.len() + " " + s.toupper() + " " + s.tolower() + " " + s.slice(0, 5) + " " + s.find("World") + " " + s.find("x") + "\n");
