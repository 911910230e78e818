outer: for (let i = 0; i < 3; i++) { for (let j = 0; j < 3; j++) { if (j === 1) continue outer; if (i === 2) break outer; console.log(i, j); } }
const sw = (x) => { switch (x) { case 1: return 'one'; case 2: case 3: return 'two-three'; default: return 'other'; } };
console.log([1, 2, 3, 4].map(sw).join());
let n = 0; do { n++; } while (n < 5); console.log(n);
let k = 10; while (k --> 7); console.log(k);
for (const key in { a: 1, b: 2 }) console.log('key', key);
const arr = [1, 2, 3]; arr.extra = 'x'; for (const i in arr) console.log('idx', i);
console.log(true ? 'yes' : 'no', null || 'default', 0 ?? 'nullish', '' && 'never', !!'truthy');
block: { console.log('in block'); break block; }
console.log(typeof undeclared, void 0, (1, 2, 3), [1, 2, 3].indexOf(4) === -1 ? 'missing' : 'found');
let fizz = ''; for (let i = 1; i <= 15; i++) fizz += i % 15 === 0 ? 'FizzBuzz ' : i % 3 === 0 ? 'Fizz ' : i % 5 === 0 ? 'Buzz ' : i + ' '; console.log(fizz.trim());
