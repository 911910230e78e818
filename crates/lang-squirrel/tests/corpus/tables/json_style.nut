local t = {"name": "sq", "ver": 3}; print(t.name + " " + t.ver + "\n");
