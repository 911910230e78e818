class A { function _tostring() { return "x"; } function _add(o) { return 1; } }
local a = A();
try { print(a._add(1) + "\n"); } catch(e) { print("E1 " + e + "\n"); }
try { print(A._tostring + "\n"); } catch(e) { print("E2 " + e + "\n"); }
try { print(a._tostring() + "\n"); } catch(e) { print("E3 " + e + "\n"); }
class B extends A { function _tostring() { return "B" + base._tostring(); } }
try { print(B() + "\n"); } catch(e) { print("E4 " + e + "\n"); }
print(("_tostring" in A) + "\n");
