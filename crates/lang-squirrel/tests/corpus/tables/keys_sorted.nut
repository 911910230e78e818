local t = {b = 2, a = 1, c = 3}; local ks = []; foreach (k, v in t) ks.append(k); ks.sort(); foreach (k in ks) print(k + "=" + t[k] + "\n");
