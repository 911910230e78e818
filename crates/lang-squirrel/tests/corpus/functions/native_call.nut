local p = print; p.call(this, "via call\n");
