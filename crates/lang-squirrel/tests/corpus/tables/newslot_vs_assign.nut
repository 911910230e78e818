local t = {}; t.a <- 1; try { t.b = 2; } catch (e) { print(e + "\n"); } print(t.a + "\n");
