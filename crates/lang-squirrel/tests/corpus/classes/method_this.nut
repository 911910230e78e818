class C { v = 3; function get() { return this.v; } function twice() { return this.get() * 2; } } print(C().twice() + "\n");
