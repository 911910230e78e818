with open("data/numbers.txt") as f:
    nums = [int(line) for line in f]
print(nums, sum(nums))
with open("data/numbers.txt", "rb") as f:
    raw = f.read()
print(len(raw), raw[:6])
f = open("data/utf8.txt", encoding="utf-8")
print(f.readline().rstrip(), f.read().strip(), f.closed)
f.close()
print(f.closed)
