class AppError(Exception):
    def __init__(self, code, msg):
        super().__init__(msg)
        self.code = code
def risky(n):
    if n == 0:
        raise AppError(42, "zero")
    return 10 / (n - 1)
for n in range(3):
    try:
        print("ok", risky(n))
    except AppError as e:
        print("app", e.code, e)
    except ZeroDivisionError as e:
        print("zde", e)
    else:
        print("else ran")
    finally:
        print("finally", n)
try:
    try:
        {}["k"]
    except KeyError as e:
        raise ValueError("wrapped") from e
except ValueError as e:
    print(repr(e), repr(e.__cause__))
try:
    int("x")
except (TypeError, ValueError) as e:
    print(type(e).__name__, e)
