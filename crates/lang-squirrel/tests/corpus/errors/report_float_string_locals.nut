function f() { local fl = 2.5; local s = "str"; local n = null; local b = false; local arr = [1]; throw "stop"; } f();
