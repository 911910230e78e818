const MAX = 10; const NAME = "sq"; const PI2 = 6.28; print(MAX + " " + NAME + " " + PI2 + "\n");
