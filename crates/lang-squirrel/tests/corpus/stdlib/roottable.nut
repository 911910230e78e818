x <- 5; print(getroottable().x + " " + ::x + "\n"); ::y <- 7; print(y + "\n");
