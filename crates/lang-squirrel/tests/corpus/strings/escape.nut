print(escape("a\tb\n\"c\"") + "\n");
