from enum import Enum, IntEnum, Flag, auto
class Color(Enum):
    RED = 1
    GREEN = 2
    BLUE = 3
print(Color.RED, Color(2), Color["BLUE"], Color.RED.name, Color.RED.value, list(Color))
class Perm(Flag):
    R = auto(); W = auto(); X = auto()
print(Perm.R | Perm.W, Perm.R in (Perm.R | Perm.X), Perm.X.value)
class Level(IntEnum):
    LOW = 1; HIGH = 5
print(Level.HIGH > Level.LOW, Level.LOW + 1, sorted([Level.HIGH, Level.LOW]))
