try { print("abc".tointeger()); } catch (e) { print("err " + e + "\n"); }
