s = "The Rain in Spain"
print(s.casefold(), s.isalpha(), s.isspace(), "Ab1".isalnum(), s.istitle())
print(s.translate(str.maketrans("ai", "AI")), s.removeprefix("The "), s.removesuffix("Spain"))
print(s.encode("ascii"), "x={0!r:>6}".format("y"), "%c%c" % (72, "i"), "{:08.3f}".format(3.14159))
print(sorted(s.lower().split(), key=len), "".join(sorted("hello")), "a\tb".expandtabs(2))
print("ǅ".lower(), "ß".upper(), "İ".lower().encode("utf-8"), "ﬃ".upper())
