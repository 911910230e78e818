-- A module in a subdirectory, required as "lib.helpers".
local util = require("util")
local H = {}

function H.stats(values)
  local sum, min, max = 0, math.huge, -math.huge
  for _, v in ipairs(values) do
    sum = sum + v
    if v < min then min = v end
    if v > max then max = v end
  end
  return { n = #values, sum = sum, mean = sum / #values, min = min, max = max }
end

function H.parse_record(line)
  local f = util.split(line, ",")
  return { name = util.trim(f[1]), qty = math.tointeger(tonumber(f[2])), price = tonumber(f[3]) }
end

function H.fib_gen(limit)
  return coroutine.wrap(function()
    local a, b = 0, 1
    while a <= limit do
      coroutine.yield(a)
      a, b = b, a + b
    end
  end)
end

H.loaded_as = { ... }
return H
