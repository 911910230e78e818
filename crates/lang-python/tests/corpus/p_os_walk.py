import os
for root, dirs, files in os.walk("pkg"):
    print(root, sorted(dirs), sorted(f for f in files if f.endswith(".py")))
print(os.stat("data/table.csv").st_size)
