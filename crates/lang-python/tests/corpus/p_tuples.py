t = (1, "two", 3.0)
a, b, c = t
print(t, a, b, c, t[1:], t * 2, len(t), t.index("two"))
first, *rest = [1, 2, 3, 4]
*init, last = "abcd"
print(first, rest, init, last)
(x, y), z = (1, 2), 3
print(x, y, z)
print(tuple(range(3)), (1,) + (2,), (1, 2) < (1, 2, 0))
