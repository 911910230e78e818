import sys, re
from collections import Counter
text = """It was the best of times, it was the worst of times, it was the age of
wisdom, it was the age of foolishness, it was the epoch of belief"""
words = re.findall(r"[a-z]+", text.lower())
for word, n in sorted(Counter(words).most_common(5), key=lambda p: (-p[1], p[0])):
    print(f"{word:>8} {n:3d} {'#' * n}")
