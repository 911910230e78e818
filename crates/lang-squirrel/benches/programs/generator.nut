function counter(n) { for (local i = 0; i < n; i++) yield i; }
local s = 0;
foreach (v in counter(1500000)) s += v;
local g = counter(1500000);
local x;
while ((x = resume g) != null) s += x;
print(s + "\n");
