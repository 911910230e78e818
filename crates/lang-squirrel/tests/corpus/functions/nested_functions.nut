function outer(a) { function inner(b) { return b * 2; } return inner(a) + 1; } print(outer(5) + "\n");
