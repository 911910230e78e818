local s = 0;
for (local i = 0; i < 3000000; i++) { s += i % 7; }
local j = 0;
while (j < 1000000) { j++; s -= 1; }
print(s + "\n");
