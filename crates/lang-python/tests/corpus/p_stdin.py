import sys
lines = sys.stdin.read().splitlines()
print(len(lines), lines)
