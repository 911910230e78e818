d = {"b": 2, "a": 1}
d["c"] = 3
print(d, list(d), list(d.values()), list(d.items()))
print(d.get("z"), d.get("z", 0), d.setdefault("e", 5), d.pop("b"), d)
d.update({"a": 10}, f=6); print(d)
print({k: v * 2 for k, v in d.items() if v > 4})
print(dict(zip("xyz", range(3))), dict.fromkeys("ab", 0))
merged = d | {"g": 7}; print(merged, "a" in d, len(d))
for k in sorted(d, key=d.get, reverse=True):
    print(k, d[k])
print({**d, "a": -1})
