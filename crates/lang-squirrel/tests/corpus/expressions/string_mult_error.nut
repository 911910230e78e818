try { local s = "ab" * 2; } catch (e) { print(e + "\n"); }
