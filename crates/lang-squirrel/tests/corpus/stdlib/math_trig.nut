print(format("%.3f %.3f %.3f %.3f", atan2(1, 1), exp(1), log(10), log10(1000)) + "\n"); print(PI > 3.14 && PI < 3.15); print("\n");
