local s = "a"; s += 1; s += 2.5; local n = 10; n -= 3; n *= 2; n %= 5; n /= 2; local f = 1.5; f += 1; print(s + " " + n + " " + f + " " + (n += 4) + "\n");
