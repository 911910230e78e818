try { file("missing.txt", "r"); } catch (e) { print("error\n"); }
