try { format("%d"); } catch (e) { print(e + "\n"); }
