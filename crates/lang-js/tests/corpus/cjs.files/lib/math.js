exports.add = (a, b) => a + b;
exports.PI = 3.14;
