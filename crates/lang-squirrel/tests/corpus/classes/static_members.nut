class C { static count = 0; static function make() { return C(); } name = "c"; } print(C.count + "\n"); local c = C.make(); print(c.name + "\n");
