import re
text = "Contact: alice@example.com, bob@test.org; phone 555-1234"
print(re.findall(r"[\w.]+@[\w.]+", text))
m = re.search(r"(\d{3})-(\d{4})", text)
print(m.group(0), m.group(1), m.groups(), m.span())
print(re.sub(r"(\w+)@(\w+)", r"\2 at \1", text))
print(re.split(r"[,;]\s*", text))
p = re.compile(r"(?P<key>\w+)=(?P<val>\d+)")
print([m.groupdict() for m in p.finditer("a=1 b=22 c=333")])
print(re.match(r"^\s*$", "   ") is not None, re.fullmatch(r"a+b?", "aaab") is not None)
print(re.sub(r"\d", lambda m: str(int(m.group()) * 2), "a1b2c3"), re.escape("a.b*c"))
