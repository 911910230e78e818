local m = 9223372036854775807; print((m + 1) + "\n"); print((m * 2) + "\n"); print((-m - 1) + "\n");
