import os, os.path
print(os.path.join("a", "b", "c.txt"), os.path.basename("/x/y/z.py"), os.path.dirname("/x/y/z.py"))
print(os.path.splitext("archive.tar.gz"), os.path.split("a/b/c"), os.path.normpath("a/./b/../c//d"))
print(os.path.isabs("/a"), os.path.isabs("a"), os.sep, os.curdir, os.pardir)
print(os.path.exists("data/numbers.txt"), os.path.exists("nope.txt"), os.path.isdir("data"), os.path.isfile("data"))
print(os.path.getsize("data/numbers.txt"), sorted(os.listdir("data")))
print(os.path.commonprefix(["/usr/lib", "/usr/local"]), os.path.splitext(".bashrc"))
print(os.environ.get("HOME", "no home") if False else "env ok", os.getenv("NOPE_NOT_SET"))
