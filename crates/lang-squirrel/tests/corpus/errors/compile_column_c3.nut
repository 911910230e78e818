

local x = ;
