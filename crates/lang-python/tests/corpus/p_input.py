first = input()
second = input("prompt> ")
print("got", first, "and", second)
try:
    input()
    input()
    input()
except EOFError:
    print("EOF")
