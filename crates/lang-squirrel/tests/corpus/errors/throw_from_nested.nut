function a() { b(); } function b() { c(); } function c() { throw "deep"; } try { a(); } catch (e) { print(e + "\n"); }
