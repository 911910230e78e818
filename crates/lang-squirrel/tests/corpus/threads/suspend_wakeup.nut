function coro(a, b) {
  print("start " + a + " " + b + "\n");
  local x = suspend(a + b);
  print("got " + x + "\n");
  local y = suspend(x * 2);
  print("got " + y + "\n");
  return "done";
}
local t = newthread(coro);
print(t.getstatus() + "\n");
local r = t.call(1, 2);
print("r=" + r + " " + t.getstatus() + "\n");
r = t.wakeup(10);
print("r=" + r + "\n");
r = t.wakeup(20);
print("r=" + r + " " + t.getstatus() + " " + typeof t + "\n");
function gen2() { for (local i = 0; i < 3; i++) suspend(i); }
local t2 = newthread(gen2);
local v = t2.call();
while (t2.getstatus() == "suspended") { print(v + "\n"); v = t2.wakeup(); }
print(v + "\n");
