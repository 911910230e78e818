# Lists, tuples and sorting with a key function, on a seeded generator of
# our own (no time or host input).
state = 12345


def rand():
    global state
    state = (state * 1103515245 + 12345) % 2147483648
    return state


rows = [(rand() % 1000, rand() % 1000, i) for i in range(60000)]
rows.sort(key=lambda r: (r[1], -r[0]))
total = sum(r[2] for r in rows[:1000])
print(len(rows), rows[0], rows[-1], total)
