import sys
registry = {}
def register(name):
    def deco(fn):
        registry[name] = fn
        return fn
    return deco
@register("double")
def d(x): return 2 * x
@register("square")
def s(x): return x * x
print({k: f(5) for k, f in sorted(registry.items())})
print("__main__" in sys.modules, sys.modules["__main__"].registry is registry)
