foreach (i, c in "hey") print(i + ":" + c + " " + c.tochar() + "\n");
