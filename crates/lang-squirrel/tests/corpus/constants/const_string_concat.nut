const GREETING = "hi"; print(GREETING + " there\n");
