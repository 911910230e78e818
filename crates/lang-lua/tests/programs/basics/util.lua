-- A module at the root of the program.
local M = {}

function M.counter(start)
  local n = start or 0
  return function(step)
    n = n + (step or 1)
    return n
  end
end

function M.split(s, sep)
  local out = {}
  for field in string.gmatch(s, "([^" .. sep .. "]+)") do
    out[#out + 1] = field
  end
  return out
end

function M.trim(s)
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

M.loaded_as = ...
return M
