local s = "\a\b\f\v\0x"; print(s.len() + " "); foreach (c in s) print(c + ","); print("\n");
