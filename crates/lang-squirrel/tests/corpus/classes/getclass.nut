class K { } local k = K(); print((k.getclass() == K) + "\n");
