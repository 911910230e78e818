// A blob iterates over its bytes, as unsigned integers with their index.
local b = blob(0);
foreach (c in "Az\x7f") b.writen(c, 'c');
b.writen(200, 'b');
foreach (i, v in b) print(i + ":" + v + " ");
print("\n" + b.len() + "\n");
