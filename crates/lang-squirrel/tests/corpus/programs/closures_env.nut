local handlers = {};
function on(name, fn) { if (!(name in handlers)) handlers[name] <- []; handlers[name].append(fn); }
function emit(name, ...) { if (name in handlers) foreach (h in handlers[name]) h.acall([this].extend(vargv)); }
local log = [];
on("x", function(a) { log.append("first " + a); });
on("x", @(a) log.append("second " + a * 2));
on("y", function(a, b) { log.append("y " + (a + b)); });
emit("x", 5); emit("y", 1, 2); emit("z");
foreach (l in log) print(l + "\n");
local ctx = {name = "ctx"};
local greet = function() { return "hello from " + name; }.bindenv(ctx);
print(greet() + "\n");
