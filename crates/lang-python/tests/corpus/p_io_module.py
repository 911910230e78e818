import io
s = io.StringIO()
s.write("hello\n"); print("world", file=s)
print(repr(s.getvalue()))
b = io.BytesIO(b"line1\nline2\n")
print(b.readline(), b.read(), b.tell())
t = io.TextIOWrapper(io.BytesIO("ünï\n".encode()), encoding="utf-8")
print(t.read().strip())
