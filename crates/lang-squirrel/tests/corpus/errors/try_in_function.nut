function risky(n) { if (n > 2) throw "too big " + n; return n; } for (local i = 0; i < 5; i++) { try { print(risky(i) + "\n"); } catch (e) { print("err: " + e + "\n"); } }
