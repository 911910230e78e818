function worker(n) {
  local total = 0;
  for (local i = 1; i <= n; i++) { total += i; suspend(total); }
  return "sum=" + total;
}
local t = newthread(worker);
print(typeof t + " " + t.getstatus() + "\n");
local v = t.call(4);
while (t.getstatus() == "suspended") { print(v + " "); v = t.wakeup(); }
print("\n" + v + " " + t.getstatus() + "\n");
// A finished thread can be called again.
print(t.call(2) + "\n");
