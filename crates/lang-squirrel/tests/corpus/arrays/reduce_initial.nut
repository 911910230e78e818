print([1, 2, 3].reduce(@(a, b) a + b, 100) + " " + [].reduce(@(a, b) a + b) + "\n");
