function inner(a, b) { local sum = a + b; local t = {}; return sum + t.missing; } function outer(x) { local y = x * 2; return inner(x, y); } outer(3);
