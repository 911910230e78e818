import copy
a = [[1, 2], {"k": [3]}]
b = copy.copy(a)
c = copy.deepcopy(a)
a[0].append(9)
a[1]["k"].append(4)
print(b, c)
class Node:
    def __init__(self): self.children = []
n = Node(); n.children.append(n)
m = copy.deepcopy(n)
print(m.children[0] is m)
