try:
    open("no/such/file.txt")
except FileNotFoundError as e:
    print(type(e).__name__, e.errno, e.filename)
try:
    open("data")
except IsADirectoryError as e:
    print("isdir", e.errno)
try:
    open("data/numbers.txt", "rz")
except ValueError as e:
    print("ValueError", e)
try:
    with open("x.txt", "w") as f:
        f.read()
except Exception as e:
    print(type(e).__name__)
