-- Sums numbers from stdin, writes a file, exits with status 3.
local total, count = 0, 0
while true do
  local n = io.read("n")
  if not n then break end
  total, count = total + n, count + 1
end
print("count", count, "total", total)
local f = assert(io.open("sum.txt", "w"))
f:write(string.format("%d numbers, sum %g\n", count, total))
f:close()
io.write("exiting with ", arg[1], "\n")
os.exit(tonumber(arg[1]))
print("not reached")
