for (const n of [0, 1, -1, 0.5, 123456789, 1.23e-10, 9.007199254740993e15, 2 ** 64, -1e-7, 100 / 3]) console.log(n, n.toString(2).length, n.toFixed(3), n.toExponential(3));
console.log(Number.parseFloat('1e3'), Number('1_000'), (25).toString(36), parseInt('zz', 36), Number.MIN_VALUE, Number.MAX_VALUE);
console.log(0.1 * 3, 9.95.toFixed(1), (1e-7).toFixed(10), 123.456e5, 5e-324, 1.7976931348623157e308 * 10);
console.log(Math.round(2.5), Math.round(-2.5), Math.round(0.49999999999999994), Math.fround(5.5), Math.clz32(1), Math.imul(3, -4));
