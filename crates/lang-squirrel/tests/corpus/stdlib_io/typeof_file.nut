print(typeof blob() + " " + typeof file("typeof_file.nut", "r") + " " + type(blob()) + "\n");
