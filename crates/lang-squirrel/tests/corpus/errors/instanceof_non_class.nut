try { print(1 instanceof 2); } catch (e) { print(e + "\n"); }
