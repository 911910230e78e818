local f = function(t) { local v = t[5]; return v; }; f([1, 2]);
