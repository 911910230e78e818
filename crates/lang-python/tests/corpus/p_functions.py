def f(a, b=2, *args, c, d=4, **kw):
    return a, b, args, c, d, sorted(kw.items())
print(f(1, c=3))
print(f(1, 5, 6, 7, c=8, e=9, z=0))
def g(x, /, y, *, z):
    return x + y + z
print(g(1, 2, z=3), g(1, y=2, z=3))
sq = lambda v: v * v
print(list(map(sq, range(5))), list(filter(lambda v: v % 2, range(7))))
def deco(fn):
    def wrapper(*a, **k):
        return "<" + str(fn(*a, **k)) + ">"
    return wrapper
@deco
def hello(n):
    return "hi " * n
print(hello(2))
print(f.__name__, hello.__name__, (lambda: 0).__name__)
