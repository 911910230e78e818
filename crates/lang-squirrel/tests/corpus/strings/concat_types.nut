local parts = [1, 2.5, "s", null, true]; local out = ""; foreach (p in parts) out += p + ","; print(out + "\n");
