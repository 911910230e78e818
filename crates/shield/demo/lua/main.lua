-- The demo's shielded script: an ordinary Lua program, unmodified.
-- It reads confidential sensor readings, summarises them with a module
-- from its bundle, and writes a report file.
local stats = require("lib.stats")

local readings = {}
for line in io.lines("data/readings.csv") do
  local site, value = line:match("^([^,#]+),([%d%.]+)$")
  if site then
    readings[#readings + 1] = { site = site, value = tonumber(value) }
  end
end

local s = stats.summary(readings)
print(string.format("%d readings from %d sites; mean %.2f, highest %.2f at %s",
  s.count, s.sites, s.mean, s.max, s.max_site))

local report = assert(io.open("report.txt", "w"))
for _, site in ipairs(s.site_names) do
  report:write(string.format("%-24s %8.2f\n", site, s.by_site[site]))
end
report:close()
print("wrote report.txt")
