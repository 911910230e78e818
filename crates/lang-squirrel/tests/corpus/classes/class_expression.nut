local K = class { v = 9; function get() { return v; } }; print(K().get() + "\n");
