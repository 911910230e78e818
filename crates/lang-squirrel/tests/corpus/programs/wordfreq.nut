local text = "the quick brown fox jumps over the lazy dog the fox";
local counts = {};
foreach (w in split(text, " ")) {
  if (w in counts) counts[w]++; else counts[w] <- 1;
}
local pairs = [];
foreach (k, v in counts) pairs.append({w = k, n = v});
pairs.sort(function(a, b) { if (a.n != b.n) return b.n <=> a.n; return a.w <=> b.w; });
foreach (p in pairs) print(format("%-6s %d\n", p.w, p.n));
