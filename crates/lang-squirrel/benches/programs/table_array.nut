local a = array(1000, 0);
local t = {};
for (local i = 0; i < 1000; i++) t[i] <- i;
local s = 0;
for (local k = 0; k < 3000; k++) {
  for (local i = 0; i < 1000; i++) { a[i] = a[i] + t[i]; s += a[i]; }
}
local o = { x = 1, y = 2 };
for (local i = 0; i < 1000000; i++) { o.x = o.x + o.y; }
print(s + " " + o.x + "\n");
