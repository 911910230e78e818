local out = ""; switch (2) { case 1: out += "a"; case 2: out += "b"; case 3: out += "c"; break; case 4: out += "d"; } print(out + "\n");
