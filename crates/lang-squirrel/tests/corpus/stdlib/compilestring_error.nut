try { compilestring("local = ;"); } catch (e) { print("failed\n"); }
