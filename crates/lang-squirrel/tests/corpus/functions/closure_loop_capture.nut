local fs = []; for (local i = 0; i < 3; i++) { local j = i; fs.append(function() { return j; }); } foreach (f in fs) print(f() + " "); print("\n");
