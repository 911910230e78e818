local t = {k = "v"}; local old = delete t.k; print(old + " " + t.len() + "\n");
