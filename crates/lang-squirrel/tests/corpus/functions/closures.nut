function counter() { local n = 0; return function() { n++; return n; }; } local c = counter(); c(); c(); print(c() + "\n"); local d = counter(); print(d() + "\n");
