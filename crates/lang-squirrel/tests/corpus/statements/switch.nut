function f(x) { switch (x) { case 1: return "one"; case 2: case 3: return "two-three"; case "s": return "str"; default: return "other"; } } foreach (v in [1,2,3,"s",9]) print(f(v) + "\n");
