class T { function _tostring() { return "T!"; } } print(T()); print("\n"); print("x" + T() + "\n");
