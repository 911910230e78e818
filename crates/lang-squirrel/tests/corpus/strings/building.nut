local s = ""; for (local i = 0; i < 10; i++) s += i; print(s + " " + s.len() + "\n");
