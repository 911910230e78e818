local m = [[1, 2], [3, 4]].map(@(r) r.map(@(x) x * 10)); print(m[1][0] + " " + m[0][1] + "\n");
