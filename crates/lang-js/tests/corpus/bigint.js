const a = 2n ** 100n;
console.log(a.toString(), a % 97n, -a / 3n, typeof a, BigInt(123) + 1n, BigInt.asUintN(8, 257n));
let f = 1n; for (let i = 1n; i <= 30n; i++) f *= i; console.log(f);
console.log(10n > 9, 10n == 10, 10n === 10, (255n).toString(16), BigInt('0x1f'));
try { 1n + 1; } catch (e) { console.log(e.name); }
console.log([3n, 1n, 2n].sort().join(), 5n / 2n, -5n % 2n, 1n << 70n);
