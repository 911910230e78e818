import sys
def depth(n):
    return 0 if n == 0 else 1 + depth(n - 1)
print(depth(300))
def hanoi(n, a, b, c, moves):
    if n:
        hanoi(n - 1, a, c, b, moves)
        moves.append((a, c))
        hanoi(n - 1, b, a, c, moves)
    return moves
print(len(hanoi(10, "A", "B", "C", [])))
def forever(n):
    return forever(n + 1)
try:
    forever(0)
except RecursionError:
    print("RecursionError caught")
