print("a" + 1 + 2 + "\n"); print(1 + 2 + "a\n"); print("x" + null + true + 1.5 + "\n");
