import sys
print("a", "b", sep="-", end="!\n")
print(1, 2.5, None, True, [1], {"k": (1,)})
print("to stderr", file=sys.stderr)
sys.stdout.write("direct write\n")
print(*range(5), sep=",")
print()
print("no newline", end="")
print(" then", flush=True)
