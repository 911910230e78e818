local b = blob(); b.writen(-2, 's'); b.writen(65535, 'w'); b.writen(-5, 'l'); b.writen(2.5, 'f'); b.seek(0); print(b.readn('s') + " " + b.readn('w') + " " + b.readn('l') + " " + b.readn('f') + "\n");
