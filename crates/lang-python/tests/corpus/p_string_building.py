parts = []
for i in range(1000):
    parts.append(f"{i:04d}")
s = ",".join(parts)
print(len(s), s[:20], s.count("9"))
t = ""
for i in range(300):
    t += chr(65 + i % 26)
print(t[:30], t.lower().count("a"))
