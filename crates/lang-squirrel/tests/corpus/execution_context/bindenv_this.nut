local env = {x = "env"}; local f = function() { return x; }.bindenv(env); print(f() + "\n");
