for i in range(10):
    if i % 2 == 0:
        continue
    if i > 7:
        break
    print("odd", i)
else:
    print("no break")
n = 0
while True:
    n += 1
    if n >= 5:
        break
print("n", n)
for x in []:
    pass
else:
    print("empty loop else")
val = 7
print("big" if val > 5 else "small")
match val:
    case 1 | 2:
        print("small")
    case int(v) if v > 5:
        print("int > 5:", v)
    case _:
        print("other")
