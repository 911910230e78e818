print(typeof 1 + 2); print("\n"); print(typeof (1 + 2)); print("\n");
