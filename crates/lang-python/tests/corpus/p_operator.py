import operator as op
print(op.add(1, 2), op.mul(3, 4), op.neg(5), op.itemgetter(1)([9, 8]), op.attrgetter("real")(3))
data = [("b", 2), ("a", 3), ("c", 1)]
print(sorted(data, key=op.itemgetter(1)), op.methodcaller("upper")("x"))
print(op.truediv(7, 2), op.floordiv(7, 2), op.contains([1], 1), op.index(5))
