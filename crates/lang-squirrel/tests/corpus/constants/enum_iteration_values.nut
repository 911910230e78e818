enum E { A = 10, B = 20 } print((E.A + E.B) + "\n");
