local b = blob(); b.writen(65, 'b'); b.writen(66, 'b'); b.writen(1000, 'i'); print(b.len() + " " + b.tell() + "\n"); b.seek(0); print(b.readn('b') + " " + b.readn('b') + " " + b.readn('i') + "\n");
