from dataclasses import dataclass, field, asdict, replace
@dataclass(order=True)
class Item:
    name: str
    qty: int = 0
    tags: list = field(default_factory=list)
a = Item("apple", 3)
b = Item("pear", tags=["x"])
print(a, b, a < b, a == Item("apple", 3))
print(asdict(b), replace(a, qty=9))
@dataclass(frozen=True)
class P:
    x: int
    y: int
try:
    P(1, 2).x = 5
except Exception as e:
    print(type(e).__name__)
print(hash(P(1, 2)) == hash(P(1, 2)))
