local a = array(5); a.resize(2); a.extend([1, 2, 3]); print(a.len() + "\n");
