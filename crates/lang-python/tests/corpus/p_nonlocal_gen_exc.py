def gen():
    try:
        yield 1
        yield 2
    finally:
        print("gen cleanup")
g = gen()
print(next(g))
g.close()
def thrower():
    try:
        yield 1
    except ValueError as e:
        yield "caught " + str(e)
t = thrower(); next(t)
print(t.throw(ValueError("boom")))
