local a = [1, 2, 3]; a.append(4); a.push(5); print(a.len() + " " + a[4] + " " + a.top() + "\n"); print(a.pop() + " " + a.len() + "\n");
