local s = "héllo"; print(s.len() + "\n");
