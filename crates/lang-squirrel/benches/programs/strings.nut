local s = "";
for (local i = 0; i < 20000; i++) { s += i % 10; }
local parts = [];
for (local i = 0; i < 400000; i++) parts.append("x" + i);
local n = 0;
foreach (p in parts) n += p.len();
print(s.len() + " " + n + " " + format("%d-%s", 42, "ok") + "\n");
