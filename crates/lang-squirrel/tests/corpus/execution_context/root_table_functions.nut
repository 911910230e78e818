function gf() { return "global"; } print(::gf() + " " + getroottable().gf() + "\n");
