class P { v = 0; } local a = P(); local b = P(); a.v = 5; print(a.v + " " + b.v + "\n");
