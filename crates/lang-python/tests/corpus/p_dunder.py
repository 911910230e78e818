class Vec:
    def __init__(self, *xs): self.xs = list(xs)
    def __len__(self): return len(self.xs)
    def __getitem__(self, i): return self.xs[i]
    def __setitem__(self, i, v): self.xs[i] = v
    def __iter__(self): return iter(self.xs)
    def __contains__(self, v): return v in self.xs
    def __mul__(self, k): return Vec(*[x * k for x in self.xs])
    __rmul__ = __mul__
    def __lt__(self, o): return sum(self) < sum(o)
    def __bool__(self): return any(self.xs)
    def __call__(self, i): return self.xs[i] * 100
    def __repr__(self): return f"Vec{tuple(self.xs)}"
v = Vec(1, 2, 3)
v[0] = 5
print(v, len(v), v[1], 3 in v, v * 2, 3 * v, v(2), bool(Vec(0)), sorted([Vec(9), v, Vec(1)]))
print(list(v), v[-1], v[0:2])
