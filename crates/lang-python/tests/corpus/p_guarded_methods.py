# Methods the memory guard measures before they run (expandtabs, replace,
# join, translate): their ordinary results, edge cases and errors.
import itertools

# expandtabs
for s in ["a\tb", "\t", "ab\tc\td\n\tx", "x\r\ty", "", "no tabs", "é\tü\t!"]:
    print(repr(s.expandtabs()), repr(s.expandtabs(4)), repr(s.expandtabs(0)),
          repr(s.expandtabs(-3)), repr(s.expandtabs(tabsize=1)))
for b in [b"a\tb", b"\t\t", b"ab\tc\n\td"]:
    print(b.expandtabs(), b.expandtabs(3), bytearray(b).expandtabs(5),
          bytearray(b).expandtabs(tabsize=0))
print(repr("a\tb".expandtabs(True)))
try:
    "a\tb".expandtabs("4")
except TypeError as e:
    print("TypeError")

# replace
s = "banana"
print(s.replace("a", "o"), s.replace("a", "oo"), s.replace("an", ""),
      s.replace("a", "xyz", 2), s.replace("a", "xyz", 0), s.replace("a", "xyz", -1))
print(s.replace("", "-"), s.replace("", "-", 3), "".replace("", "x"),
      "".replace("a", "x"), "".replace("", "x", 0), s.replace("q", "long"))
print("ééé".replace("é", "ab"), "aaa".replace("aa", "bbb"), s.replace("a", "AA", count=2))
print(b"banana".replace(b"a", b"oo"), b"banana".replace(b"", b"."),
      b"banana".replace(b"na", b"NAN", 1), b"".replace(b"", b"x"),
      b"abc".replace(memoryview(b"b"), bytearray(b"BBB")))
ba = bytearray(b"banana")
print(ba.replace(b"a", b"ooo"), ba.replace(b"", b"|", 2), ba)
for bad in [lambda: s.replace(1, "x"), lambda: s.replace("a", b"x"),
            lambda: b"ab".replace("a", b"x")]:
    try:
        bad()
    except TypeError:
        print("TypeError")

# join
words = ["alpha", "beta", "gamma"]
print("-".join(words), ", ".join(tuple(words)), "".join([]), "|".join(["one"]))
print("+".join(w.upper() for w in words), "".join(map(str, range(12))))
print(".".join("abc"), "-".join({"k1": 1, "k2": 2}), "/".join(iter(words)))
print("é".join(["ü", "ö"]), "".join(itertools.repeat("ab", 3)))
print(b",".join([b"a", bytearray(b"b"), memoryview(b"c")]), b"".join((b"x", b"y")),
      bytearray(b"--").join([b"1", b"2"]), b"|".join(x for x in [b"p", b"q"]))
class L(list):
    def __iter__(self):
        return iter(["over", "ridden"])
print(" ".join(L(["not", "used"])))
for bad in [lambda: "".join(["a", 1]), lambda: b"".join([b"a", "b"]),
            lambda: "".join(5), lambda: "".join(x for x in [1])]:
    try:
        bad()
    except TypeError:
        print("TypeError")
def boom():
    yield "a"
    raise ValueError("from the generator")
try:
    "".join(boom())
except ValueError as e:
    print("ValueError", e)

# translate
table = str.maketrans("abc", "xyz", "d")
print("abcdabcd".translate(table), "hello".translate({ord("l"): "LL", ord("o"): None}))
print("abc".translate({97: 98, 98: "long value"}), "abc".translate(["0"] * 98 + ["B", None]),
      "abc".translate(("x",) * 100))
print("é!".translate({233: "e\u0301", 33: 0x1F600}), "".translate({97: "x"}))
class D(dict):
    def __missing__(self, key):
        return chr(key).upper() * 2
print("abc".translate(D({98: "-"})))
class M:
    def __getitem__(self, key):
        if key == 97:
            return "A!"
        raise KeyError(key)
print("abca".translate(M()))
for bad in [lambda: "a".translate({97: 1.5}), lambda: "a".translate(5)]:
    try:
        bad()
    except TypeError:
        print("TypeError")
try:
    "a".translate({97: 0x110000})
except ValueError:
    print("ValueError")
print(b"abc".translate(bytes.maketrans(b"ab", b"AB")), b"abc".translate(None, b"b"),
      bytearray(b"abc").translate(None))

# split, rsplit, splitlines
t = " a  bc\td\né  f\r\n"
print(t.split(), t.split(None, 2), t.rsplit(maxsplit=1), t.split(" "), "a,,b,".split(","))
print("a,b,c".rsplit(",", 1), "a,b,c".split(sep=",", maxsplit=0), "".split(), "".split(","))
print("x\ny\r\nz\rw\x0bv\x1cu\u2028t".splitlines(), "a\n\nb\n".splitlines(keepends=True))
print(b" a  b\tc ".split(), b"a,,b".split(b","), b"a,b,c".rsplit(b",", 1),
      bytearray(b"1\r\n2\r3\n").splitlines(), b"x\ny\n".splitlines(True),
      b"a--b".split(memoryview(b"--")))
for bad in [lambda: "a".split(""), lambda: b"a".split(b"")]:
    try:
        bad()
    except ValueError:
        print("ValueError")
print(repr("ab\tc\n\td".expandtabs(0)), repr("ab\tc".expandtabs(-1)), repr("é\t".expandtabs(tabsize=0)))

# iterators drained by native code, int.to_bytes
print(sorted(range(5, 0, -1)), list(itertools.repeat("r", 3)), sorted("héllo"),
      list(zip(itertools.count(10), "ab")), dict.fromkeys(range(3)), list(b"ab"),
      list(bytearray(b"cd")), list(itertools.islice(itertools.cycle("xy"), 5)),
      list(range(10**20, 10**20 + 2)))
print((1024).to_bytes(2, "big"), (1).to_bytes(), (5).to_bytes(length=3, byteorder="little"))

# dunders by name
print("ab".__mul__(3), [1].__rmul__(2), (2).__pow__(10), (2).__pow__(10, 7), (3).__rpow__(2),
      (1).__lshift__(4), (4).__rlshift__(1), "%d-%s".__mod__((1, "a")), bytearray(b"ab").__imul__(2),
      str.__mul__("x", -1), b"%d" % 5, (5).__pow__(-1), bytearray(b"%05d|%s") % (42, b"z"),
      (2).__pow__(3.0), "ab".__mul__(True), (1,).__rmul__(0), b"x".__mul__(2))
try:
    str.__mul__(b"x", 3)
except TypeError:
    print("TypeError")
