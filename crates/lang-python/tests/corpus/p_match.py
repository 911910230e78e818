def describe(obj):
    match obj:
        case []:
            return "empty"
        case [x]:
            return f"one {x}"
        case [x, y, *rest]:
            return f"many {x} {y} +{len(rest)}"
        case {"kind": "point", "x": px, "y": py}:
            return f"point {px},{py}"
        case str() as s:
            return "str " + s
        case _:
            return "unknown"
for o in [[], [1], [1, 2, 3, 4], {"kind": "point", "x": 1, "y": 2}, "hi", 3.5]:
    print(describe(o))
