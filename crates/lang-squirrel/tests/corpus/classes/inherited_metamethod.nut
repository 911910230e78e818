class A { function _inherited(c) { print("inherited\n"); } } class B extends A {}
