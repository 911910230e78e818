local out = []; for (local i = 0; i < 3; i++) { local sq = function(v) { return v * v; }; out.append(sq(i)); } foreach (v in out) print(v + " "); print("\n");
