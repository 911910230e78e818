local a = [];
local seed = 12345;
for (local i = 0; i < 300000; i++) { seed = (seed * 1103515245 + 12345) % 2147483648; a.append(seed % 100000); }
a.sort(function(x, y) { return x <=> y; });
local b = clone a;
b.sort(@(x, y) y <=> x);
print(a[0] + " " + a[a.len() - 1] + " " + b[0] + "\n");
