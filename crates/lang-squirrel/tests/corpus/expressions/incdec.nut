local i = 5; local j = i++; local k = ++i; print(i + " " + j + " " + k + "\n"); local t = {x = 1}; t.x++; ++t.x; print(t.x + "\n"); local a = [1]; a[0]--; print(a[0] + "\n");
