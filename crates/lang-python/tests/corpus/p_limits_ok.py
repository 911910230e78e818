total = 0
for i in range(200000):
    total += i % 7
print(total)
s = "".join(str(i) for i in range(1000))
print(len(s), s[-10:])
