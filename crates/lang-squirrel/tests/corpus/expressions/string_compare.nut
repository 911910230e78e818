local a = ["b", "a", "c", "ab"]; a.sort(); foreach (s in a) print(s + " "); print(("a" == "a") + " " + ("a" <=> "b") + "\n");
