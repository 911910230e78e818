for (local i = 0; i < 4; i++) { switch (i) { case 1: continue; default: print(i + "\n"); } }
