local x = 1;
local y = 2;
function bad() {
  local z = null;
  return z.field;
}
bad();
