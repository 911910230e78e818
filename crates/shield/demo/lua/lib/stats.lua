-- Summary statistics over { site = ..., value = ... } records.
local M = {}

function M.summary(readings)
  local total, max, max_site = 0, -math.huge, nil
  local by_site, site_names = {}, {}
  for _, r in ipairs(readings) do
    total = total + r.value
    if r.value > max then max, max_site = r.value, r.site end
    if not by_site[r.site] then site_names[#site_names + 1] = r.site end
    by_site[r.site] = (by_site[r.site] or 0) + r.value
  end
  table.sort(site_names)
  return {
    count = #readings,
    sites = #site_names,
    mean = total / #readings,
    max = max,
    max_site = max_site,
    by_site = by_site,
    site_names = site_names,
  }
end

return M
