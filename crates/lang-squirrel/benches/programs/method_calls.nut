class Point {
  x = 0; y = 0;
  constructor(a, b) { x = a; y = b; }
  function add(o) { return Point(x + o.x, y + o.y); }
  function len2() { return x * x + y * y; }
}
class Point3 extends Point {
  z = 0;
  constructor(a, b, c) { base.constructor(a, b); z = c; }
  function len2() { return base.len2() + z * z; }
}
local p = Point(0, 0);
local q = Point(1, 2);
local s = 0;
for (local i = 0; i < 1000000; i++) { p = p.add(q); s += p.len2() % 1000; }
local r = Point3(1, 2, 3);
for (local i = 0; i < 1000000; i++) { s += r.len2(); }
print(s + "\n");
