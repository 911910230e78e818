def f():
    raise ExceptionGroup("many", [ValueError("v"), TypeError("t"), KeyError("k")])
try:
    f()
except* ValueError as g:
    print("values", [str(e) for e in g.exceptions])
except* (TypeError, KeyError) as g:
    print("others", sorted(type(e).__name__ for e in g.exceptions))
try:
    raise RuntimeError("bad")
except RuntimeError as e:
    e.add_note("a note")
    print(e.__notes__)
