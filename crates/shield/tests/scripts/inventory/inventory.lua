local M = {}

function M.load(path)
  local items = {}
  local f = assert(io.open(path, "r"))
  for line in f:lines() do
    local sku, qty, price = line:match("^(%w+),(%d+),([%d%.]+)$")
    if sku then
      items[#items + 1] = { sku = sku, qty = tonumber(qty), price = tonumber(price) }
    end
  end
  f:close()
  return items
end

function M.fill(items, orders)
  local by_sku = {}
  for _, it in ipairs(items) do by_sku[it.sku] = it end
  local filled, missing = {}, {}
  for _, o in ipairs(orders) do
    local it = by_sku[o.sku]
    if it and it.qty >= o.qty then
      it.qty = it.qty - o.qty
      filled[#filled + 1] = { sku = o.sku, qty = o.qty, price = it.price }
    else
      missing[#missing + 1] = o.sku
    end
  end
  return filled, missing
end

return M
