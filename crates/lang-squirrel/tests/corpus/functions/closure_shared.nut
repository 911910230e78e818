local fs = []; local x = 0; local inc = function() { x++; }; local get = function() { return x; }; inc(); inc(); print(get() + " " + x + "\n");
