class Animal { name = null; constructor(n) { name = n; } function speak() { return name + " makes a sound"; } } local a = Animal("cat"); print(a.speak() + "\n"); print(a.name + "\n");
