import json, os
records = [{"id": i, "sq": i * i, "name": f"rec{i}"} for i in range(5)]
with open("out/records.json", "w") as f:
    json.dump(records, f, indent=1)
print(os.path.getsize("out/records.json") > 0, os.path.exists("out/records.json"))
with open("out/records.json") as f:
    back = json.load(f)
print(back == records, back[-1])
print("records.json" in os.listdir("out"))
