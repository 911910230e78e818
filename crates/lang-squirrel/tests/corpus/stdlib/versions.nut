print(_intsize_ + " " + _floatsize_ + " " + _charsize_ + "\n");
