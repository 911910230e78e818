print(startswith("hello", "he") + " " + endswith("hello", "lo") + " " + startswith("hello", "lo") + "\n");
