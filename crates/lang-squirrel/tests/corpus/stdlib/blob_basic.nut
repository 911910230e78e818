local b = blob(4); print(b.len() + "\n"); b[0] = 65; print(b[0] + "\n"); b.seek(0, 'e'); b.writen(3.5, 'd'); b.seek(4); print(b.readn('d') + " " + b.len() + "\n");
