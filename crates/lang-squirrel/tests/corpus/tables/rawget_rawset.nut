local t = {}; t.rawset("k", 5); print(t.rawget("k") + " " + t.rawin("k") + " " + t.rawin("z") + "\n"); t.rawdelete("k"); print(t.len() + "\n");
