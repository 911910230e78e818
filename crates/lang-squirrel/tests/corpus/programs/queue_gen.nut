function fibgen(limit) { local a = 0, b = 1; while (a < limit) { yield a; local t = a; a = b; b = t + b; } return "end"; }
function take(g, n) { local out = []; for (local i = 0; i < n; i++) { local v = resume g; if (v == null) break; out.append(v); } return out; }
local g = fibgen(1000);
local first = take(g, 5);
foreach (v in first) print(v + " ");
print("| ");
foreach (v in g) print(v + " ");
print("\n" + g.getstatus() + "\n");
