-- String building, patterns and short-lived allocations.
local n = tonumber(arg[1]) or 200000
local parts = {}
for i = 1, n do parts[#parts + 1] = string.format("item-%d:%x", i, i * 7) end
local text = table.concat(parts, ",")
local count = 0
for key, hex in text:gmatch("item%-(%d+):(%x+)") do
  if tonumber(hex, 16) % 3 == 0 then count = count + #key end
end
local upper = text:sub(1, 100000):upper():gsub("ITEM", "x")
print(count, #text, #upper)
