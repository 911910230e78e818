function f() {
  print("x");

