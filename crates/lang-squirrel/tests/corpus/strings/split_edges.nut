foreach (s in [",a", "a,", "a,,", ",", "", "a"]) { local p = split(s, ","); print(p.len() + ":"); foreach (x in p) print("[" + x + "]"); print("\n"); }
