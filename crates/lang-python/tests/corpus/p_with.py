from contextlib import contextmanager, suppress
class Ctx:
    def __init__(self, name): self.name = name
    def __enter__(self):
        print("enter", self.name); return self
    def __exit__(self, et, ev, tb):
        print("exit", self.name, et.__name__ if et else None)
        return et is KeyError
with Ctx("a") as a, Ctx("b"):
    print("body", a.name)
with Ctx("c"):
    raise KeyError("swallowed")
@contextmanager
def tag(t):
    print(f"<{t}>"); yield t; print(f"</{t}>")
with tag("p") as t:
    print("inside", t)
with suppress(ZeroDivisionError):
    1 / 0
print("after")
