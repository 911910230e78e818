s = "Hello, World"
print(s.lower(), s.upper(), s.swapcase(), s.title(), s[::-1], s[3:8], s[-5:])
print(s.find("o"), s.rfind("o"), s.count("l"), s.replace("l", "L", 2), s.split(", "))
print("  pad  ".strip() + "|", "x".center(7, "*"), "7".zfill(4), "ab".ljust(5, ".") + "|")
print(",".join(["a", "b", "c"]), "a-b-c".partition("-"), "a-b-c".rpartition("-"))
print("abc".startswith("ab"), "abc".endswith(("x", "c")), "ABC".isupper(), "123".isdigit())
print("%s has %d items costing %.2f" % ("cart", 3, 9.5), "%-5s|%5s|" % ("l", "r"))
print("tab\tsep".expandtabs(4), repr("quote'\"s"), "é".encode("utf-8"), b"\xc3\xa9".decode())
print("line1\nline2\r\nline3".splitlines(), "a,b,,c".split(","), "  a  b ".split())
