print(typeof abs(-3) + " " + typeof sqrt(4) + " " + typeof floor(1.5) + "\n");
