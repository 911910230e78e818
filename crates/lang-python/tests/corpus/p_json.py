import json
with open("data/config.json") as f:
    cfg = json.load(f)
print(cfg["name"], cfg["limits"]["memory"], cfg["langs"], cfg["debug"])
s = json.dumps({"b": [1, 2.5, None, True], "a": "é\n"}, sort_keys=True)
print(s)
print(json.dumps({"x": [1, {"y": 2}]}, indent=2))
print(json.loads('[1, "two", {"3": 4.0}, null, false]'))
print(json.dumps("üñí", ensure_ascii=False), json.dumps(1e100), json.dumps([float("1.5")]))
try:
    json.loads("{bad json}")
except json.JSONDecodeError as e:
    print("decode error at", e.pos)
