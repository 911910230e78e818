from typing import List, Dict, Optional, Union, NamedTuple, TypedDict, Protocol, Generic, TypeVar
T = TypeVar("T")
class Stack(Generic[T]):
    def __init__(self) -> None:
        self.items: List[T] = []
    def push(self, x: T) -> None:
        self.items.append(x)
    def pop(self) -> Optional[T]:
        return self.items.pop() if self.items else None
s: Stack[int] = Stack()
s.push(1); s.push(2)
print(s.pop(), s.pop(), s.pop())
class Pt(NamedTuple):
    x: int
    y: int = 0
print(Pt(1), Pt._fields)
class Movie(TypedDict):
    title: str
m: Movie = {"title": "x"}
print(m, Dict[str, int], Optional[int] == Union[int, None])
def f(a: int, b: "str" = "x") -> List[int]:
    return [a]
print(f.__annotations__["a"], f(3))
