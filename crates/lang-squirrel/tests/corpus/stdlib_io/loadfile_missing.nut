try { loadfile("nope.lib"); } catch (e) { print("failed: " + e + "\n"); }
