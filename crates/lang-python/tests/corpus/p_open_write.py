with open("out/result.txt", "w") as f:
    f.write("line 1\n")
    print("line 2", file=f)
    f.writelines(["line 3\n", "line 4\n"])
with open("out/result.txt", "a") as f:
    f.write("appended\n")
with open("out/result.txt") as f:
    print(f.read(), end="")
with open("out/bin.dat", "wb") as f:
    f.write(bytes(range(10)))
with open("out/bin.dat", "rb") as f:
    f.seek(4)
    print(f.read(3), f.tell())
