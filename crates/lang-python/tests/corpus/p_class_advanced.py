class Registry(dict):
    def __missing__(self, key):
        return f"<{key}>"
r = Registry(a=1)
print(r["a"], r["zz"])
class MyList(list):
    def sum(self): return sum(self)
ml = MyList([1, 2, 3]); ml.append(4)
print(ml.sum(), ml, type(ml[:2]).__name__)
class Singleton:
    _inst = None
    def __new__(cls):
        if cls._inst is None:
            cls._inst = super().__new__(cls)
        return cls._inst
print(Singleton() is Singleton())
class Cmp:
    def __init__(self, v): self.v = v
    def __eq__(self, o): return NotImplemented
print(Cmp(1) == Cmp(1), Cmp(1) != 5)
