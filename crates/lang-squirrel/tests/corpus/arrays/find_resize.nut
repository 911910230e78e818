local a = [4, 5, 6]; print(a.find(5) + " " + a.find(7) + "\n"); a.resize(5, 0); print(a.len() + " " + a[4] + "\n"); a.resize(1); print(a.len() + "\n"); local b = array(3, "x"); print(b[2] + "\n");
