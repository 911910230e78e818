
local x = ;
