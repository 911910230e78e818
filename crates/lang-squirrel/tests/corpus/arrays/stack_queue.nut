local s = []; s.push(1); s.push(2); s.push(3); print(s.pop() + " "); local q = [1, 2, 3]; print(q.remove(0) + " " + q.len() + "\n");
