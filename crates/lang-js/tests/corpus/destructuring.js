const [a, , b = 5, ...rest] = [1, 2, undefined, 4, 5];
console.log(a, b, rest);
const { x, y: { z = 'dz' } = {}, ...others } = { x: 1, w: 2, v: 3 };
console.log(x, z, others);
let p = 1, q = 2; [p, q] = [q, p]; console.log(p, q);
function opts({ size = 10, color = 'red', ...extra } = {}) { return `${size}/${color}/${Object.keys(extra)}`; }
console.log(opts(), opts({ size: 3, shape: 'o' }));
const [[n1, n2], [n3]] = [[1, 2], [3]]; console.log(n1 + n2 + n3);
for (const [k, v] of Object.entries({ one: 1, two: 2 })) console.log(k, v);
const { length } = 'hello'; console.log(length);
const key = 'dyn'; const { [key]: dynVal } = { dyn: 'D' }; console.log(dynVal);
const f = ([first, ...others] = []) => [first, others.length]; console.log(f([9, 8, 7]), f());
