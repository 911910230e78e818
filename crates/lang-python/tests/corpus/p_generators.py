def fib():
    a, b = 0, 1
    while True:
        yield a
        a, b = b, a + b
g = fib()
print([next(g) for _ in range(15)])
def inner():
    x = yield 1
    print("got", x)
    yield x * 2
    return "done"
def outer():
    r = yield from inner()
    print("result", r)
o = outer()
print(next(o), o.send(21))
try:
    next(o)
except StopIteration:
    print("stopped")
print(sum(x * x for x in range(10)), list(zip(range(3), "abc")))
