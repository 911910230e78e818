;;; local x = 1;; if (x) ; print("ok\n");
