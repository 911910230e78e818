local f = null; f();
