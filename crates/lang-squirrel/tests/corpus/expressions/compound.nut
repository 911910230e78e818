local x = 10; x += 5; x -= 3; x *= 2; x /= 4; x %= 4; print(x + "\n"); local s = "a"; s += "b"; s += 1; print(s + "\n");
