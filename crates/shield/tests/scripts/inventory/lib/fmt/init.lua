local M = {}

function M.line(sku, qty, total)
  return string.format("%-8s x%3d = %10.2f", sku, qty, total)
end

return M
