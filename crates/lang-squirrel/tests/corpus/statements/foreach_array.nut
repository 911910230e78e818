foreach (i, v in ["a", "b", "c"]) print(i + "=" + v + "\n"); foreach (v in [10, 20]) print(v + "\n");
