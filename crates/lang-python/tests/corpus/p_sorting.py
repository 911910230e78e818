people = [("alice", 30), ("bob", 25), ("carol", 30), ("dave", 25)]
print(sorted(people, key=lambda p: (-p[1], p[0])))
print(sorted(people, key=lambda p: p[1]))
words = "banana Apple cherry apple Banana".split()
print(sorted(words), sorted(words, key=str.casefold), sorted(set(w.lower() for w in words)))
nums = [3.5, -1, 2, float("inf"), 0]
print(sorted(nums), max(nums), min(nums, key=abs))
