print(len("abc"), type(3).__name__, isinstance(True, int), callable(len), id(1) == id(1))
print(sorted([3, 1, 2], reverse=True), list(zip([1, 2], "ab")), divmod(7, 2), chr(9731), ord("A"))
print(repr(None), ascii("é"), hash(1) == 1, getattr(1, "real"), hasattr([], "append"))
ns = {}
exec("x = 6 * 7", ns)
print(ns["x"], eval("x + 1", ns), compile("1+1", "<s>", "eval").co_filename)
print(vars(type("T", (), {"a": 1}))["a"], dir([])[:0], globals()["__name__"], __name__)
print(slice(1, 5, 2).indices(10), range(0, 10, 3)[-1], bool([]), complex(1, 2) * 2j)
print(int(3.9), float(-2), str(b"x", "ascii"), list("ab"), tuple({1: 2}), frozenset())
