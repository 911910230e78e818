-- Run once per state before the script; returns the function that runs the
-- main chunk. Everything it needs is captured here, before the script can
-- change any global.
--
-- Arguments: the memory limit in bytes (nil when none); `over_budget`, a
-- Rust function telling whether the enclave's own count of the run's heap
-- (the backstop under the VM's accounting) is past its budget; `noted`, a
-- Rust function told of a limit error the VM would swallow (in a finalizer).
local mem_limit, over_budget, noted = ...

local type, tostring, select, xpcall = type, tostring, select, xpcall
local error, rawget, rawset, rawlen, pcall = error, rawget, rawset, rawlen, pcall
local mtype, fmt, pack, unpack = math.type, string.format, table.pack, table.unpack
local sbyte, gcollect, stderr = string.byte, collectgarbage, io.stderr
local pairs, sort = pairs, table.sort
-- The originals a wrapper below calls carry the library's own names, so
-- their argument errors read as C Lua's do ("bad argument #1 to 'rep'").
local rep, gsub, format, concat = string.rep, string.gsub, string.format, table.concat
local create, resume, wrap = coroutine.create, coroutine.resume, coroutine.wrap
local load, setmetatable = load, setmetatable
local spack = string.pack
local debug = debug
local traceback, getmetatable = debug.traceback, debug.getmetatable
local getupvalue = debug.getupvalue

-- Functions defined here whose upvalues the script must not reach through
-- debug.getupvalue (they hold the originals this file replaces).
local hidden = setmetatable({}, { __mode = "k" })
local function hide(f) hidden[f] = true return f end

-- Scripts get the read-only part of the debug library: debug.sethook could
-- disarm the instruction limit, the setters reach into other code's state.
local allowed = {
  traceback = true, getinfo = true, getlocal = true,
  getmetatable = true, getupvalue = true, upvalueid = true,
}
for name in pairs(debug) do
  if not allowed[name] then debug[name] = nil end
end
debug.getupvalue = hide(function(f, n)
  if hidden[f] then return nil end
  return getupvalue(f, n)
end)

-- ── Memory ─────────────────────────────────────────────────────────────────
-- The VM counts its objects and checks the limit every few instructions, so a
-- single library call that builds a huge buffer (gsub repeating a long
-- replacement, concat of one big string a million times, ...) could outgrow
-- the limit, and the enclave's heap, before the next check. These calls are
-- bounded first: a result that cannot fit stops the script exactly as the
-- VM's own check does (string.rep of the whole limit is refused by the VM's
-- reserve check, which ends the run and cannot be caught).

-- What is left of the limit. collectgarbage("count") costs time in
-- proportion to the live coroutines, so it is asked only about sizes worth
-- checking (`need`); and it answers nothing while a chunk is being loaded.
local function remaining()
  return mem_limit - (gcollect("count") or 0) * 1024
end

-- Below this, a buffer is left to the VM's own check a few instructions
-- later: the heap has room for that much past the limit.
local SMALL = 1 << 20

local function out_of_memory()
  rep("x", mem_limit)
  error("not enough memory") -- not reached: the reserve check stops the run
end

-- Stops the run when `bytes` more cannot fit, or when the backstop says the
-- enclave heap is past the run's budget.
local function need(bytes)
  if over_budget() or (mem_limit and bytes > SMALL and bytes > remaining()) then
    out_of_memory()
  end
end

-- Returns the results of the library function `name` called through
-- pcall; an error it raised is raised again as the library raises it for a
-- script's direct call: named, at the script's line. Always tail-called
-- (`return relay(...)`), so level 2 is the script. For `callback` calls
-- (which may run script code: gsub's replacement function, metamethods,
-- load's reader) only what is surely the library's own is rewritten: a
-- script's error must reach it as the script raised it.
local function relay_from(callback, name, ok, ...)
  if ok then return ... end
  local e = ...
  if type(e) == "string" then
    local bare, n = gsub(e, "^bad argument (#%d+) to '%?'", "bad argument %1 to '" .. name .. "'", 1)
    if n == 0 then bare, n = gsub(e, "^%(shield%):%d+: ", "", 1) end
    if n > 0 or not callback then error(bare, 2) end
  end
  error(e, 0)
end

-- A library call that runs no script code: its errors are all its own.
local function relay(name, ...)
  return relay_from(false, name, ...)
end

-- A library call that may run script code (see relay_from).
local function relay_cb(name, ...)
  return relay_from(true, name, ...)
end

-- Bound on one value's length as concat and format see it.
local function vlen(v)
  if type(v) == "string" then return #v end
  return 64
end

-- The total length of `t[first..last]` (a table without a metatable) and
-- a separator after each, when they are all strings; fails otherwise.
local function string_lengths(t, first, last, lsep)
  local size = 0
  for k = first, last do
    local v = t[k]
    if v == nil then break end -- the library refuses it
    size = size + #v + lsep
  end
  return size
end

-- The total length of values `first`..`last` of `...`, each at most
-- `each` bytes more than its `vlen`.
local function vsum(each, first, ...)
  local size = 0
  for i = first, select("#", ...) do size = size + vlen((select(i, ...))) + each end
  return size
end

if mem_limit then
  string.gsub = hide(function(s, p, repl, n)
    local tr = type(repl)
    if type(s) ~= "string" or (tr ~= "string" and tr ~= "function" and tr ~= "table") then
      return relay("gsub", pcall(gsub, s, p, repl, n)) -- the library's own argument errors
    end
    if tr == "string" then
      -- Each match adds at most the replacement with every %d expanded to
      -- the whole subject.
      local _, escapes = gsub(repl, "%%[0-9]", "")
      local per = #repl + escapes * #s
      local matches = #s + 1
      if type(n) == "number" and n < matches then matches = n end
      local bound = #s + matches * per
      if bound > SMALL and bound > remaining() then
        -- Count the matches (this result is at most as long as `s`).
        local ok, _, found = pcall(gsub, s, p, "", n)
        if not ok then return relay("gsub", false, _) end
        need(#s + found * per)
      end
      need(0)
      return relay("gsub", pcall(gsub, s, p, repl, n))
    end
    -- Function and table replacements: count what they return.
    local added = 0
    local function counted(...)
      local v
      if tr == "table" then v = repl[(...)] else v = repl(...) end
      if v then
        added = added + vlen(v)
        need(#s + added)
      end
      return v
    end
    return relay_cb("gsub", pcall(gsub, s, p, counted, n))
  end)

  string.rep = hide(function(...)
    need(0)
    return relay("rep", pcall(rep, ...))
  end)

  string.format = hide(function(f, ...)
    -- %q can quadruple a string; a number takes at most a few hundred bytes.
    if type(f) == "string" then need(#f + 4 * vsum(512, 1, ...)) end
    return relay("format", pcall(format, f, ...))
  end)

  string.pack = hide(function(f, ...)
    -- Each format item packs at most 16 bytes, or a string argument.
    if type(f) == "string" then need(16 * #f + vsum(0, 1, ...)) end
    return relay("pack", pcall(spack, f, ...))
  end)

  table.concat = hide(function(t, sep, i, j)
    if type(t) ~= "table" then return relay("concat", pcall(concat, t, sep, i, j)) end
    local lsep = type(sep) == "string" and #sep or 0
    if getmetatable(t) ~= nil then
      -- Metamethods may run script code at each element: read every element
      -- once, as the library would, counting as we go, then join the copy.
      local first, last = i or 1, j or #t
      if type(first) ~= "number" or type(last) ~= "number" then
        return relay_cb("concat", pcall(concat, t, sep, i, j))
      end
      local parts, size, n = {}, 0, 0
      for k = first, last do
        local v = t[k]
        n = n + 1
        parts[n] = v
        size = size + vlen(v) + lsep
      end
      need(size)
      local ok, r = pcall(concat, parts, sep, 1, n)
      if ok then return r end
      local shifted = gsub(r, "at index (%d+)", function(x) return "at index " .. (x + first - 1) end)
      return relay("concat", false, shifted)
    end
    local first, last = i or 1, j or rawlen(t)
    if type(first) == "number" and type(last) == "number" and last >= first then
      -- Strings only (the usual case) are measured by VM operations alone;
      -- a number among them makes `#` fail, and the elements are measured
      -- one by one instead.
      local ok, size = pcall(string_lengths, t, first, last, lsep)
      if not ok then
        size = 0
        for k = first, last do
          local v = rawget(t, k)
          if v == nil then break end -- the library refuses it
          size = size + vlen(v) + lsep
        end
      end
      need(size)
    end
    need(0)
    return relay("concat", pcall(concat, t, sep, i, j))
  end)

  coroutine.create = hide(function(...)
    need(0)
    return relay("create", pcall(create, ...))
  end)
  coroutine.wrap = hide(function(...)
    need(0)
    return relay("wrap", pcall(wrap, ...))
  end)
end

-- ── Code loading: text only ────────────────────────────────────────────────
-- Owners ship source. The VM's binary loader is not hardened against
-- malformed chunks, so binary chunks are refused in every mode (the files
-- loader refuses them too, for require, dofile and loadfile).
_G.load = hide(function(chunk, name, mode, ...)
  if type(chunk) == "function" and mem_limit then
    local reader, total = chunk, 0
    chunk = function()
      local piece = reader()
      if type(piece) == "string" then
        total = total + #piece
        need(total)
      end
      return piece
    end
  end
  if select("#", ...) > 0 then
    return relay_cb("load", pcall(load, chunk, name, "t", ...))
  end
  return relay_cb("load", pcall(load, chunk, name, "t"))
end)

-- ── Finalizers ─────────────────────────────────────────────────────────────
-- The VM runs __gc metamethods with hooks off, so the instruction limit
-- would not see them. The VM is never told about a script's __gc: an object
-- gets its metatable without the field (so the VM does not mark it), and a
-- private sentinel, tied to the object through an ephemeron table, carries
-- the VM's finalizer instead. When both become garbage the sentinel's
-- finalizer runs the object's current __gc in a fresh coroutine, where
-- hooks, and so the limits, are on again.
local warn_on, warn_cont = false, false
local function warn_out(msg, tocont)
  if not warn_cont and not tocont and sbyte(msg, 1) == 64 then -- "@"
    if msg == "@on" then warn_on = true elseif msg == "@off" then warn_on = false end
    return
  end
  if warn_on then
    if not warn_cont then stderr:write("Lua warning: ") end
    stderr:write(msg)
    if not tocont then stderr:write("\n") end
  end
  warn_cont = tocont
end

local anchors = setmetatable({}, { __mode = "k" })
local marked = 0 -- sentinels made so far: their order

-- Runs `obj`'s current __gc once, in a coroutine of its own.
local function finalize(sentinel)
  local obj = sentinel[1]
  if obj == nil then return end
  sentinel[1] = nil
  local mt = getmetatable(obj)
  local gc = mt and rawget(mt, "__gc")
  if gc == nil then return end
  local ok, err = resume(create(gc), obj)
  if not ok then
    noted(tostring(err))
    warn_out("error in __gc (" .. tostring(err) .. ")", false)
  end
end

local sentinel_mt = { __gc = finalize }

-- What closing the state does in C Lua: every object still marked is
-- finalized, the most recently marked first.
local function finalize_all()
  local list = {}
  for _, sentinel in pairs(anchors) do list[#list + 1] = sentinel end
  sort(list, function(a, b) return a[2] > b[2] end)
  for i = 1, #list do finalize(list[i]) end
end

_G.setmetatable = hide(function(t, mt)
  if type(mt) == "table" and type(t) == "table" then
    local gc = rawget(mt, "__gc")
    if gc ~= nil and anchors[t] == nil then
      rawset(mt, "__gc", nil)
      local ok, r = pcall(setmetatable, t, mt)
      rawset(mt, "__gc", gc)
      if not ok then return relay("setmetatable", false, r) end
      marked = marked + 1
      anchors[t] = setmetatable({ t, marked }, sentinel_mt)
      return r
    end
  end
  return relay("setmetatable", pcall(setmetatable, t, mt))
end)

-- ── Warnings ───────────────────────────────────────────────────────────────
-- The VM's own warn writes to the process's stderr, which an enclave cannot
-- do and which would escape the output limit; this one goes through
-- io.stderr like any other output.
warn = hide(function(msg, ...)
  local n = select("#", ...)
  local parts = { msg, ... }
  for i = 1, n + 1 do
    if type(parts[i]) ~= "string" then
      error(fmt("bad argument #%d to 'warn' (string expected, got %s)", i,
        parts[i] == nil and "no value" or type(parts[i])), 2)
    end
  end
  for i = 1, n + 1 do warn_out(parts[i], i <= n) end
end)

-- ── Output ─────────────────────────────────────────────────────────────────
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
io.write = hide(function(...)
  if hasfloat(...) then return write(fixed(...)) end
  return write(...)
end)

local methods = getmetatable(io.stdout).__index
local fwrite = methods.write
methods.write = hide(function(f, ...)
  if hasfloat(...) then return fwrite(f, fixed(...)) end
  return fwrite(f, ...)
end)

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
return hide(function(main, ...)
  local ok, msg = xpcall(main, msghandler, ...)
  finalize_all()
  if not ok then return msg end
end)
