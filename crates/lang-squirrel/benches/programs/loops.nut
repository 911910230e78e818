local s = 0;
for (local i = 0; i < 15000000; i++) { s += i % 7; }
local j = 0;
while (j < 5000000) { j++; s -= 1; }
print(s + "\n");
