-- Run once per state before the script; returns the function that runs the
-- main chunk. Everything it needs is captured here, before the script can
-- change any global.
local type, tostring, select, xpcall = type, tostring, select, xpcall
local mtype, fmt, pack, unpack = math.type, string.format, table.pack, table.unpack
local debug = debug
local traceback, getmetatable = debug.traceback, debug.getmetatable

-- Scripts get the read-only part of the debug library: debug.sethook could
-- disarm the instruction limit, the setters reach into other code's state.
local allowed = {
  traceback = true, getinfo = true, getlocal = true,
  getmetatable = true, getupvalue = true, upvalueid = true,
}
for name in pairs(debug) do
  if not allowed[name] then debug[name] = nil end
end

-- omnilua's io.write and file:write print floats as tostring does ("3.0");
-- C Lua 5.4 writes them with "%.14g" ("3"). Convert floats first.
local function hasfloat(...)
  for i = 1, select("#", ...) do
    if mtype((select(i, ...))) == "float" then return true end
  end
  return false
end

local function fixed(...)
  local t = pack(...)
  for i = 1, t.n do
    if mtype(t[i]) == "float" then t[i] = fmt("%.14g", t[i]) end
  end
  return unpack(t, 1, t.n)
end

local write = io.write
io.write = function(...)
  if hasfloat(...) then return write(fixed(...)) end
  return write(...)
end

local methods = getmetatable(io.stdout).__index
local fwrite = methods.write
methods.write = function(f, ...)
  if hasfloat(...) then return fwrite(f, fixed(...)) end
  return fwrite(f, ...)
end

-- lua.c's message handler: strings and numbers get a traceback, objects
-- with __tostring their own text, anything else a description.
local function msghandler(msg)
  local t = type(msg)
  if t ~= "string" and t ~= "number" then
    local mt = getmetatable(msg)
    if mt and mt.__tostring then
      local s = tostring(msg)
      if type(s) == "string" then return s end
    end
    msg = fmt("(error object is a %s value)", t)
  end
  return traceback(tostring(msg), 2)
end

-- Runs the main chunk; returns nothing on success, the report on error.
return function(main, ...)
  local ok, msg = xpcall(main, msghandler, ...)
  if not ok then return msg end
end
