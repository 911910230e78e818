local proto = {function describe() { return "I am " + name; }}; local a = {name = "a"}.setdelegate(proto); local b = {name = "b"}.setdelegate(proto); print(a.describe() + ", " + b.describe() + "\n");
