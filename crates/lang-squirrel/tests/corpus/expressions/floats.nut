print(0.1 + 0.2); print("\n"); print(1e10); print("\n"); print(1.0/3); print("\n"); print(2.5e-8); print("\n"); print(100.0); print("\n"); print(-0.5); print("\n"); print(123456789.123); print("\n");
