foreach (v in [1, 1.0, "s", [], {}, null, true, print, function(){}]) print(typeof v + "\n");
