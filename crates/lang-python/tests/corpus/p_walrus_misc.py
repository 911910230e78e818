data = [1, 5, 12, 7, 30]
if (n := len(data)) > 3:
    print("long list", n)
print([y for x in data if (y := x * 2) > 10])
print(1 < 2 < 3, 1 < 3 < 2, not None, None is None, [] == [], [] is not [])
x = 5
x += 3; x *= 2; x -= 1; x //= 3; x **= 2; x %= 7
print(x)
a = b = [1]
b.append(2)
print(a, a is b)
print(*[1, 2], *"ab", sep="|")
print({**{"a": 1}, **{"b": 2}}, [*range(3), *[9]])
