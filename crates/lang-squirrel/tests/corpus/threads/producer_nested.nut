function producer() {
  foreach (w in ["alpha", "beta", "gamma"]) suspend(w);
  return null;
}
local p = newthread(producer);
local w = p.call();
while (w != null) { print(w.toupper() + "\n"); w = p.wakeup(); }
function nested(n) { if (n == 0) { suspend("deep"); return 0; } return 1 + nested(n - 1); }
local t = newthread(nested);
print(t.call(5) + "\n");
print(t.wakeup() + " " + t.getstatus() + "\n");
function withtry() { try { suspend(1); throw "after"; } catch (e) { return "caught " + e; } }
local u = newthread(withtry);
print(u.call() + "\n");
print(u.wakeup() + "\n");
