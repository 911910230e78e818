def check(v):
    assert v > 0, f"bad value {v}"
    return v
print(check(1))
try:
    check(-1)
except AssertionError as e:
    print("assert:", e)
assert False
