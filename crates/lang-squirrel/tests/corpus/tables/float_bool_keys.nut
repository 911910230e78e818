local t = {}; t[1.5] <- "f"; t[true] <- "b"; t[1] <- "i"; print(t[1.5] + t[true] + t[1] + "\n");
