class Animal:
    count = 0
    def __init__(self, name):
        self.name = name
        Animal.count += 1
    def speak(self):
        return f"{self.name} makes a sound"
    def __repr__(self):
        return f"{type(self).__name__}({self.name!r})"
class Dog(Animal):
    def speak(self):
        return super().speak() + ": woof"
class Puppy(Dog):
    pass
p = Puppy("rex")
print(p, p.speak(), Animal.count, isinstance(p, Animal), issubclass(Puppy, Dog))
print([c.__name__ for c in Puppy.__mro__])
class Point:
    __slots__ = ("x", "y")
    def __init__(self, x, y):
        self.x, self.y = x, y
    def __eq__(self, o):
        return (self.x, self.y) == (o.x, o.y)
    def __hash__(self):
        return hash((self.x, self.y))
    def __add__(self, o):
        return Point(self.x + o.x, self.y + o.y)
    def __str__(self):
        return f"({self.x}, {self.y})"
print(Point(1, 2) + Point(3, 4), Point(1, 2) == Point(1, 2), len({Point(1, 2), Point(1, 2)}))
