const xs = [0.1 + 0.2, 1 / 3, 2 ** 53, 1e21, 1e-7, -0, NaN, Infinity, 0xff, 0o17, 0b101, 1_000_000];
for (const x of xs) console.log(x, String(x), typeof x);
console.log((123.456).toFixed(1), (0.000001234).toExponential(2), (255).toString(16), (255).toString(2));
console.log(Math.max(3, 7, 2), Math.min(), Math.hypot(3, 4), Math.trunc(-4.7), Math.sign(-3), Math.cbrt(27));
console.log(7 % 3, -7 % 3, 7 / 2 | 0, ~5, 5 >>> 1, -5 >> 1, -5 >>> 28, 1 << 31);
console.log(Number.isInteger(5.0), Number.isSafeInteger(2 ** 53), Number.EPSILON > 0, Number.MAX_SAFE_INTEGER);
console.log(parseInt('42px'), parseFloat('3.14abc'), Number('  12  '), Number(''), Number('0x10'), +true);
console.log((1234.5678).toPrecision(6), (0).toFixed(2), (-1.5).toFixed(0), (1.005).toFixed(2));
