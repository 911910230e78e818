local n = null; print((n == null) + " " + (n != null) + " " + (!n) + "\n");
