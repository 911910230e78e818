local s = "\u00e9\x41"; print(s.len() + " " + s + "\n");
