print(typeof stdout + " " + typeof stdin + " " + typeof stderr + "\n");
stdout.writen(65, 'b'); stdout.writen(10, 'b'); stderr.writen(66, 'b');
local b = blob(); b.writen(0x6948, 'w'); b.writen(10, 'b'); stdout.writeblob(b); print(typeof b + "\n");
