# The demo's shielded script: an ordinary Python program, unmodified.
# It reads confidential sensor readings, summarises them with a module
# from its bundle, and writes a report file.
import csv

from lib.stats import summary

readings = []
with open("data/readings.csv", newline="") as f:
    for row in csv.reader(f):
        if len(row) == 2 and not row[0].startswith("#"):
            readings.append((row[0], float(row[1])))

s = summary(readings)
print(f"{s['count']} readings from {s['sites']} sites; "
      f"mean {s['mean']:.2f}, highest {s['max']:.2f} at {s['max_site']}")

with open("report.txt", "w") as report:
    for site in s["site_names"]:
        report.write(f"{site:<24} {s['by_site'][site]:8.2f}\n")
print("wrote report.txt")
