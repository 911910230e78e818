class Cnt { static n = [0]; function inc() { n[0]++; } } Cnt().inc(); Cnt().inc(); print(Cnt.n[0] + "\n");
