local a = [1, 2]; a.extend([3, 4]); print(a.len() + "\n"); a.clear(); print(a.len() + "\n");
