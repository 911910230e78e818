words = ["apple", "bob", "kayak", "level", "zebra"]
print([w for w in words if w == w[::-1]])
print({w: len(w) for w in words})
print({len(w) for w in words} == {3, 5})
print([(i, j) for i in range(3) for j in range(i)])
print([[c for c in w if c in "aeiou"] for w in words[:2]])
matrix = [[1, 2, 3], [4, 5, 6]]
print([list(col) for col in zip(*matrix)])
