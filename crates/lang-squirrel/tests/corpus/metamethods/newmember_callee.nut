class Base {
  function _newmember(index, value, attrs, isstatic) {
    print("new " + index + " static=" + isstatic + " attrs=" + (attrs == null ? "none" : attrs.tag) + "\n");
    this.rawset(index, value);
  }
}
class Derived extends Base {
  x = 1;
  </ tag = "t" /> function f() { return 2; }
  static s = 3;
}
print(Derived.x + " " + Derived().f() + " " + Derived.s + "\n");
function who() { return callee(); }
print((who() == who) + "\n");
