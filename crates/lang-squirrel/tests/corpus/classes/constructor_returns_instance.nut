class C { function constructor() { return 5; } } print(typeof C() + "\n");
