function matmul(a, b) {
  local n = a.len(), m = b[0].len(), k = b.len();
  local c = [];
  for (local i = 0; i < n; i++) {
    local row = array(m, 0);
    for (local j = 0; j < m; j++) { local s = 0; for (local x = 0; x < k; x++) s += a[i][x] * b[x][j]; row[j] = s; }
    c.append(row);
  }
  return c;
}
local a = [[1, 2], [3, 4]], b = [[5, 6], [7, 8]];
local c = matmul(a, b);
foreach (row in c) { foreach (v in row) print(v + " "); print("\n"); }
local f = [[0.5, 1.5], [2.0, -1.0]];
foreach (row in matmul(f, f)) { foreach (v in row) print(v + " "); print("\n"); }
