function inner() { yield "a"; yield "b"; } function outer() { foreach (v in inner()) yield v + v; yield "end"; } foreach (v in outer()) print(v + " "); print("\n");
