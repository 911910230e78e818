for (local i = 0; i < 5; i++) { try { if (i == 3) break; print(i + "\n"); } catch (e) {} } print("done\n");
