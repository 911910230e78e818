x <- "global"; function f() { local x = "local"; return x; } print(f() + " " + x + "\n");
