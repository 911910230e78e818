def counter():
    n = 0
    def inc(step=1):
        nonlocal n
        n += step
        return n
    return inc
c = counter()
print(c(), c(), c(10))
adders = [lambda x, i=i: x + i for i in range(3)]
print([a(10) for a in adders])
total = 0
def add(v):
    global total
    total += v
for v in range(5):
    add(v)
print(total)
