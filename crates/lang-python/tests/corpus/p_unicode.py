s = "héllo wörld ✓ 日本"
print(len(s), s.upper(), s.encode("utf-8")[:8], s[::-1])
with open("data/utf8.txt", encoding="utf-8") as f:
    for line in f:
        print(repr(line), len(line))
import unicodedata
print(unicodedata.name("✓"), unicodedata.category("A"), unicodedata.normalize("NFD", "é").encode("utf-8"))
