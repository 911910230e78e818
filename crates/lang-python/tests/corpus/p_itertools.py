import itertools as it
print(list(it.permutations("abc", 2)))
print(list(it.combinations(range(4), 3)), list(it.combinations_with_replacement("ab", 2)))
print(list(it.product([0, 1], repeat=2)), list(it.islice(it.count(10, 5), 4)))
print(list(it.chain([1], [2, 3])), list(it.accumulate([1, 2, 3, 4])), list(it.repeat("x", 3)))
print([(k, list(g)) for k, g in it.groupby("aaabbc")])
print(list(it.zip_longest("ab", "xyz", fillvalue="-")), list(it.starmap(pow, [(2, 3), (3, 2)])))
print(list(it.takewhile(lambda x: x < 3, [1, 2, 5, 1])), list(it.dropwhile(lambda x: x < 3, [1, 2, 5, 1])))
print(list(it.pairwise([1, 2, 3])), list(it.batched(range(7), 3)), list(it.compress("abcd", [1, 0, 1, 0])))
