local f = file("data.txt", "r"); print(f.readn('b') + " " + f.readn('b') + " " + f.tell() + "\n"); f.seek(5); print(f.readn('c').tochar() + "\n"); print(f.eos() + "\n");
