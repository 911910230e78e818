print("this file does not compile"
x = = 1
