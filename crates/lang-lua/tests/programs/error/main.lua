-- An uncaught runtime error after some output: status 1.
local function check(x)
  if x > 2 then
    error("value too large: " .. x)
  end
  return x
end
for i = 1, 5 do
  print("checked", check(i))
end
