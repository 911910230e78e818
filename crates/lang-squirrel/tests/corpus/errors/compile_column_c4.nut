local q = 1;
local x = ;
