local s = "quote\" back\\"; print(s.len() + " " + s + "\n");
