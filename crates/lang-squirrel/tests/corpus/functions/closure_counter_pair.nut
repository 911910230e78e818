function pair() { local n = 0; return [function() { n += 1; }, function() { return n; }]; } local p = pair(); p[0](); p[0](); p[0](); print(p[1]() + "\n");
