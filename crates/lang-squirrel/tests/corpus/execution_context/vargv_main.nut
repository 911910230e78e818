print(vargv.len() + "\n");
