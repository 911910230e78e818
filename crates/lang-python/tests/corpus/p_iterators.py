class Countdown:
    def __init__(self, n): self.n = n
    def __iter__(self): return self
    def __next__(self):
        if self.n <= 0:
            raise StopIteration
        self.n -= 1
        return self.n + 1
print(list(Countdown(5)))
it = iter([1, 2, 3])
print(next(it), next(it), next(it), next(it, "end"))
print(list(enumerate("abc", 1)), list(map(pow, [2, 3], [3, 2])))
print(any(x > 2 for x in [1, 3]), all([]), min("bca"), max([], default=0))
