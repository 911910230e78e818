local log = []; for (local i = 0; i < 3; i++) { try { if (i == 1) throw "e"; log.append("ok" + i); } catch (e) { log.append("caught" + i); } } foreach (l in log) print(l + " "); print("\n");
