function sieve(n) {
  local is = array(n + 1, true); is[0] = false; is[1] = false;
  for (local i = 2; i * i <= n; i++) if (is[i]) for (local j = i * i; j <= n; j += i) is[j] = false;
  local out = [];
  foreach (i, p in is) if (p) out.append(i);
  return out;
}
local ps = sieve(100);
print(ps.len() + ": ");
foreach (p in ps) print(p + " ");
print("\n");
