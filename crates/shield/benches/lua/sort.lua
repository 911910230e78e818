-- Tables: fill, sort with a comparator, hash lookups.
local n = tonumber(arg[1]) or 200000
local seed = 42
local function rand() seed = (seed * 1103515245 + 12345) % 2147483648 return seed end
local t = {}
for i = 1, n do t[i] = { key = rand() % 100000, id = i } end
table.sort(t, function(a, b) if a.key ~= b.key then return a.key < b.key end return a.id < b.id end)
local seen, distinct = {}, 0
for _, v in ipairs(t) do
  if not seen[v.key] then seen[v.key] = true; distinct = distinct + 1 end
end
print(t[1].key, t[n].key, distinct)
