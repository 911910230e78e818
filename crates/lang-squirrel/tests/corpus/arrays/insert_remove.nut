local a = [1, 2, 3]; a.insert(1, 9); a.remove(0); foreach (v in a) print(v + " "); print("\n");
