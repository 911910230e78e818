-- A multi-file program: modules (one in a subdirectory, one an init.lua
-- package), a data file, stdin, arguments, a written file read back.
local inventory = require("inventory")
local fmt = require("lib.fmt")

local items = inventory.load("data/stock.txt")
local orders = {}
for line in io.lines() do            -- stdin: "sku quantity" per line
  local sku, qty = line:match("^(%S+)%s+(%d+)$")
  if sku then orders[#orders + 1] = { sku = sku, qty = math.tointeger(tonumber(qty)) } end
end

local threshold = tonumber(arg[1] or "5")
print(("%s: %d items, %d orders, threshold %s, extra args: %s"):format(
  arg[0], #items, #orders, threshold, table.concat({ select(2, ...) }, "|")))

local filled, missing = inventory.fill(items, orders)
for _, f in ipairs(filled) do print(fmt.line(f.sku, f.qty, f.price * f.qty)) end
for _, m in ipairs(missing) do io.stderr:write("missing: ", m, "\n") end

local low = {}
for _, it in ipairs(items) do
  if it.qty < threshold then low[#low + 1] = it.sku end
end
table.sort(low)

local out = assert(io.open("restock.txt", "w"))
out:write("# restock\n", table.concat(low, "\n"), "\n")
out:close()
local back = assert(io.open("restock.txt", "r")):read("a")
print("restock lines:", select(2, back:gsub("\n", "")))

-- numbers, strings, closures, coroutines, errors
print(7 // 2, 7 / 2, 2^10, 10 % 3, -7 // 2, 1e15, 2^53, math.maxinteger, 0.1 + 0.2)
print(string.format("%5.2f|%-6s|%x|%q", math.pi, "ab", 255, "a\nb"))
local gen = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i * i) end end)
print(gen(), gen(), gen())
local ok, err = pcall(error, { code = 42 })
print(ok, type(err), err.code)
print(pcall(function() local t = nil; return t.x end))
print(utf8.len("h\u{e9}llo"), #"h\u{e9}llo", ("x"):rep(3, ","))
local log = assert(io.open("log.txt", "a"))
log:write("one\n") log:close()
log = assert(io.open("log.txt", "a"))
log:write("two\n") log:close()
for l in io.lines("log.txt") do io.write("[", l, "]") end
print()
print(io.open("no-such-file.txt"))
os.exit(#missing == 0 and 0 or 3)
