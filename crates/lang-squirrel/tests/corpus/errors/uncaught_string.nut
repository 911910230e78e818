function f(x) { local y = x * 2; throw "bad " + y; } f(21);
