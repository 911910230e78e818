function count(n) { for (local i = 0; i < n; i++) yield i; } local total = 0; for (local k = 0; k < 50; k++) foreach (v in count(k)) total += v; print(total + "\n");
