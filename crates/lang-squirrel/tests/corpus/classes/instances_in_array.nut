class B { id = 0; constructor(i) { id = i; } } local bs = []; for (local i = 0; i < 4; i++) bs.append(B(i)); local s = 0; foreach (b in bs) s += b.id; print(s + "\n");
