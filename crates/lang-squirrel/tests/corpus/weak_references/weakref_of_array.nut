local a = [1, 2]; local w = a.weakref(); w.ref().append(3); print(a.len() + "\n");
