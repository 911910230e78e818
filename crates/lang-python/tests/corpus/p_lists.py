a = [5, 3, 8, 1]
a.append(7); a.extend([2, 2]); a.insert(0, 9)
print(a, len(a), a.index(8), a.count(2))
a.sort(); print(a)
a.sort(reverse=True); print(a)
print(a.pop(), a.pop(0), a)
a.remove(2); print(a, a[1:3], a[::2], a[::-1])
b = a * 2; del b[1:4]; print(b)
print(sorted(["pear", "Apple", "fig"], key=str.lower), list(reversed(range(4))))
m = [[i * j for j in range(3)] for i in range(3)]
print(m, [row[1] for row in m])
print([1, 2] + [3], [1, 2] < [1, 3], 3 in a, [] or "empty")
