class Q { function _unm() { return "negated"; } function _tostring() { return "Q"; } } print(-Q() + " " + Q().tostring() + "\n");
