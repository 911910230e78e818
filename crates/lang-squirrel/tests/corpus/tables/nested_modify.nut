local cfg = {db = {host = "x", port = 1}}; cfg.db.port += 10; cfg.db.user <- "me"; print(cfg.db.port + " " + cfg.db.user + "\n");
