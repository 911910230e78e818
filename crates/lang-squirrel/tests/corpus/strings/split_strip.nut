local p = split("a,b,,c", ","); print(p.len() + "\n"); foreach (v in p) print("[" + v + "]"); print("\n"); print("[" + strip("  x y  ") + "][" + lstrip("  x") + "][" + rstrip("x  ") + "]\n");
