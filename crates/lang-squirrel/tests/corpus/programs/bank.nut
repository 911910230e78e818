class Account {
  static nextId = [1];
  id = 0; owner = ""; balance = 0;
  constructor(o, b = 0) { id = nextId[0]++; owner = o; balance = b; }
  function deposit(x) { if (x <= 0) throw "bad amount " + x; balance += x; return this; }
  function withdraw(x) { if (x > balance) throw "insufficient funds in " + id; balance -= x; return this; }
  function _tostring() { return format("#%d %s: %d", id, owner, balance); }
}
class Savings extends Account {
  rate = 0.0;
  constructor(o, b, r) { base.constructor(o, b); rate = r; }
  function accrue() { balance += (balance * rate).tointeger(); return this; }
  function _tostring() { return base._tostring() + format(" (%.1f%%)", rate * 100); }
}
local accts = [Account("ann", 100), Savings("bob", 1000, 0.05), Account("cy")];
accts[0].deposit(50).withdraw(30);
accts[1].accrue().accrue();
foreach (a in accts) print(a + "\n");
foreach (op in [@() accts[2].withdraw(5), @() accts[0].deposit(-1), @() accts[1].deposit(1)]) {
  try { op(); print("ok\n"); } catch (e) { print("error: " + e + "\n"); }
}
local total = accts.reduce(@(acc, a) acc + a.balance, 0);
print("total " + total + "\n");
print((accts[1] instanceof Account) + " " + (accts[0] instanceof Savings) + "\n");
