print(0xFF + " " + 0x10 + " " + 017 + "\n");
