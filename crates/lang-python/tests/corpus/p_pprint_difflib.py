import pprint
data = {"name": "x" * 10, "items": list(range(30)), "nested": {"a": [1, 2, {"b": "c" * 20}]}}
pprint.pprint(data, width=60)
print(pprint.pformat([1, 2], width=5))
