class T { function _typeof() { return "custom"; } } print(typeof T() + "\n");
