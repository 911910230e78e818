a = {1, 2, 3, 4}
b = {3, 4, 5}
print(sorted(a | b), sorted(a & b), sorted(a - b), sorted(a ^ b))
print(a <= {1, 2, 3, 4, 5}, a.isdisjoint({9}), 2 in a)
a.add(10); a.discard(1); print(sorted(a))
f = frozenset([3, 1, 2]); print(sorted(f), len(f), hash(f) == hash(frozenset([1, 2, 3])))
print(sorted({x % 5 for x in range(20)}))
