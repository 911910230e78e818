import csv, io
with open("data/table.csv", newline="") as f:
    rows = list(csv.DictReader(f))
for r in rows:
    print(r["name"], int(r["qty"]) * float(r["price"]))
buf = io.StringIO()
w = csv.writer(buf)
w.writerow(["a", "b,c", 'd"e'])
w.writerows([[1, 2, 3], [4, 5, 6]])
print(buf.getvalue(), end="")
