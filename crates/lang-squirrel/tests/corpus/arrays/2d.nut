local g = []; for (local i = 0; i < 3; i++) { local row = array(3, 0); for (local j = 0; j < 3; j++) row[j] = i * j; g.append(row); } print(g[2][2] + " " + g[1][2] + "\n");
