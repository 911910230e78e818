-- Conformance program: compared byte for byte against lua5.4.
local util = require("util")
local helpers = require("lib.helpers")
print("modules", util.loaded_as, helpers.loaded_as[1], helpers.loaded_as[2])
print("cached", require("util") == util, package.loaded["lib.helpers"] == helpers)

-- arg handling
print("argc", #arg, "arg0", arg[0])
for i = 1, #arg do print("arg", i, arg[i]) end
print("varargs", select("#", ...), ...)

-- reading a data file with io.lines and io.open
local records = {}
for line in io.lines("data/items.csv") do
  if not line:match("^#") then records[#records + 1] = helpers.parse_record(line) end
end
local f = assert(io.open("data/items.csv", "r"))
local whole = f:read("a")
f:close()
print("bytes", #whole, "lines", select(2, whole:gsub("\n", "")))

-- table.sort with a comparator, string.format of ints and floats
table.sort(records, function(a, b) return a.qty * a.price > b.qty * b.price end)
for i, r in ipairs(records) do
  print(string.format("%2d %-12s %5d %8.3f %10.4e %g", i, r.name, r.qty, r.price, r.qty * r.price, r.price))
end
local qtys = {}
for _, r in ipairs(records) do qtys[#qtys + 1] = r.qty end
local st = helpers.stats(qtys)
print(string.format("n=%d sum=%d mean=%.2f min=%d max=%d", st.n, st.sum, st.mean, st.min, st.max))
print(st.mean, st.sum, 1e15, 1e16, 2^53, 2^63, -0.0, 1/0, -1/0, math.pi)
print(string.format("%5.1f|%-5d|%05d|%x|%X|%o|%q|%s", 3.14159, 42, 42, 255, 255, 8, "a\nb\"c", nil))

-- integer/float division and conversions
print(7 // 2, 7.0 // 2, -7 // 2, 7 % -3, -7 % 3, 7 / 2, 6 / 2, 3 | 5, 6 & 3, 1 << 62, 5 ~ 3)
print(math.type(1), math.type(1.0), math.type("1"), math.tointeger(3.0), 10 // 0.0, -10 % math.huge)
print(math.maxinteger + 1 == math.mininteger, math.floor(-3.5), math.ceil(-3.5), math.abs(-2^63))
print(tostring(1e100), 0.1 + 0.2, 100 * 1.1, 255 // 1, tonumber("0x10"), tonumber("10", 2), tonumber("z", 36))

-- string patterns and gsub
local text = "The quick brown fox jumps over the lazy dog"
print(text:gsub("%w+", function(w) return #w > 4 and w:upper() or nil end))
print(text:gsub("(%w+) (%w+)", "%2 %1", 2))
print(("hello world"):find("o w"), ("hello"):find("l+"), ("key = value"):match("^(%w+)%s*=%s*(%w+)$"))
print(("%d items"):format(3), ("abc"):rep(3, "-"), ("Hello"):byte(1, -1))
print(string.format("[%s]", ("  padded  "):gsub("^%s*(.-)%s*$", "%1")))
for k, v in string.gmatch("a=1, b=2, c=3", "(%w+)=(%w+)") do io.write(k, ":", v, ";") end
print()
print(("x"):rep(0), ("abc"):sub(-2), ("abc"):sub(2, 10), ("%a"):len(), ("CamelCaseString"):gsub("%u", "_%0"))

-- closures
local c1, c2 = util.counter(), util.counter(10)
c1() c1(5) c2(-1)
print("counters", c1(0), c2(0))
local fns = {}
for i = 1, 3 do fns[i] = function() return i * i end end
print("closures", fns[1](), fns[2](), fns[3]())

-- coroutines
local fibs = {}
for v in helpers.fib_gen(100) do fibs[#fibs + 1] = v end
print("fib", table.concat(fibs, ","))
local co = coroutine.create(function(a, b)
  local c = coroutine.yield(a + b)
  local d, e = coroutine.yield(c * 2)
  return d + e, "done"
end)
print(coroutine.resume(co, 1, 2))
print(coroutine.resume(co, 10))
print(coroutine.resume(co, 3, 4))
print(coroutine.resume(co), coroutine.status(co))
print(coroutine.isyieldable(), select(2, coroutine.running()))

-- utf8
local s = "héllo wörld ✓"
print(#s, utf8.len(s), utf8.char(72, 228, 8364, 128512), utf8.codepoint(s, 2))
for p, cp in utf8.codes("aé✓") do io.write(p, "=", cp, " ") end
print()
print(utf8.offset(s, 3), utf8.len("\xff"), utf8.charpattern)

-- error and pcall
print(pcall(error, "plain message"))
print(pcall(error, "with level", 1))
print(select("#", pcall(error, { code = 42 })), type(select(2, pcall(error, { code = 42 }))))
print(select(2, pcall(error)))
local ok, err = pcall(function() local t = nil; return t.field end)
print(ok, err)
ok, err = pcall(function() return 1 + {} end)
print(ok, err)
ok, err = pcall(function() error("deep " .. 1, 2) end)
print(ok, err)
print(xpcall(function() error("handled") end, function(m) return "H:" .. m end))
print(select("#", pcall(function() return 1, 2, 3 end)), tostring(nil), tostring(true))
local t = setmetatable({}, { __index = function(_, k) return k .. "!" end, __tostring = function() return "T" end })
print(t.x, tostring(t), rawget(t, "x"), #setmetatable({}, { __len = function() return 9 end }))

-- reading stdin
local first = io.read("l")
local n1, n2 = io.read("n", "n")
local rest = io.read("a")
print("stdin", first, n1, n2, math.type(n1), math.type(n2), #rest)
print(io.read("l"), io.read("a"))

-- write an output file, then read it back
local out = assert(io.open("report.txt", "w"))
for i, r in ipairs(records) do out:write(i, "\t", r.name, "\t", r.qty * r.price, "\n") end
out:write(string.format("total %.2f\n", st.sum))
out:close()
local app = assert(io.open("report.txt", "a"))
app:write("appended line\n")
app:close()
local back = {}
for line in io.lines("report.txt") do back[#back + 1] = line end
print("report lines", #back, back[1], back[#back])
local rf = assert(io.open("report.txt"))
print(rf:seek("end"), rf:seek("set", 2), rf:read(5), rf:seek("cur"))
rf:close()
print(io.open("no/such/file.txt"))
io.stdout:write("done", "\n")
