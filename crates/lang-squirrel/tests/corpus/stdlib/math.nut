print(abs(-5) + " " + fabs(-2.5) + " " + sqrt(16) + " " + floor(2.7) + " " + ceil(2.1) + " " + pow(2, 10) + "\n"); print(format("%.4f %.4f", sin(1), cos(1)) + "\n");
