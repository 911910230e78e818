local a = array(3); print(a.len() + " " + a[0] + "\n");
