print(__LINE__ + "\n");
print(
  __LINE__ + "\n");
