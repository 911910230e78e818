local a = array(10000, 1); local s = 0; foreach (v in a) s += v; a.resize(20000, 2); foreach (v in a) s += v; print(s + "\n");
