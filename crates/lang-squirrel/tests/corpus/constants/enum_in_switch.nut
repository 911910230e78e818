enum S { A, B, C } function name(s) { switch (s) { case S.A: return "a"; case S.B: return "b"; } return "c"; } print(name(S.A) + name(S.B) + name(S.C) + "\n");
