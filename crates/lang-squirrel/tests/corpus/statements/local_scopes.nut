local x = 1; { local x = 2; print(x + "\n"); } print(x + "\n"); for (local x = 5; x < 6; x++) print(x + "\n"); print(x + "\n");
