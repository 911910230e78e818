function g() { yield 1; } local x = g(); resume x; resume x; resume x;
