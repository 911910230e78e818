class P { x = 0; y = 0; constructor(a = 1, b = 2) { x = a; y = b; } } local p = P(); local q = P(5); print(p.x + " " + p.y + " " + q.x + " " + q.y + "\n");
