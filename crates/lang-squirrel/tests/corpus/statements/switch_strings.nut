foreach (w in ["apple", "kiwi", "plum"]) { switch (w) { case "apple": print("A\n"); break; case "kiwi": print("K\n"); break; default: print("?\n"); } }
