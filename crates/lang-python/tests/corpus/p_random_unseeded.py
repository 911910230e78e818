import random
a = [random.random() for _ in range(3)]
print(all(0 <= x < 1 for x in a), len(set(a)))
