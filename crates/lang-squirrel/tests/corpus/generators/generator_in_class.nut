class Bag { items = null; constructor() { items = [3, 1, 2]; } function each() { foreach (i in items) yield i; } } local s = 0; foreach (v in Bag().each()) s += v; print(s + "\n");
