tests = [lambda: 1 / 0, lambda: [][1], lambda: {}["k"], lambda: int("z"), lambda: None.x,
         lambda: undefined_name, lambda: [].pop(), lambda: (1).foo,
         lambda: iter(5), lambda: float("abc")]
for t in tests:
    try:
        t()
    except Exception as e:
        print(type(e).__name__ + ":", e)
