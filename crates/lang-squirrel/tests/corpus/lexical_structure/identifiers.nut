local _a = 1, b2_ = 2, __c__ = 3; print(_a + b2_ + __c__ + "\n");
