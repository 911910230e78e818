local t = {};
local a = ["first", "second", "third"];
t.thearray <- a.weakref();
print(t.thearray[0] + "\n");
print(typeof t.thearray + "\n");
local weakobj = t.weakref();
print(typeof weakobj + " " + typeof weakobj.ref() + "\n");
local arr = [a.weakref()];
print(arr[0].len() + "\n");
class H { w = null; }
local h = H(); h.w = a.weakref();
print(h.w[1] + "\n");
