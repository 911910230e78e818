local f = file("data.txt", "r"); local n = f.len(); local b = f.readblob(n); f.close(); local s = ""; for (local i = 0; i < b.len(); i++) s += b[i].tochar(); print(n + "\n" + s);
