// JSON.stringify with replacers (it runs through a replacer of the engine's
// own) and Array.prototype.flat at depth (it runs in chunks of levels).
const d = { a: { b: 1, a: 2, c: { a: [1, { a: 3, 1: 4 }] } }, 1: 'one', z: new Number(3), s: new String('s') };
console.log(JSON.stringify(d));
console.log(JSON.stringify(d, ['a', 'z', 1, 's']));
console.log(JSON.stringify(d, ['1', 'a', 'a', new String('z')], 2));
console.log(JSON.stringify(d, (k, v) => (typeof v === 'number' ? v * 2 : v)));
console.log(JSON.stringify(d, function (k, v) { return k === 'c' ? undefined : v; }, '--'));
console.log(JSON.stringify({ toJSON() { return { x: 1, y: [2] }; } }, ['y']));
console.log(JSON.stringify([undefined, () => 1, Symbol('s'), null, NaN]), JSON.stringify(undefined));
const seen = [];
JSON.stringify({ p: { q: 1 }, r: [2] }, function (k, v) { seen.push(k + ':' + (this === undefined)); return v; });
console.log(seen.join(' '));
const cyc = { a: 1 };
cyc.a = cyc;
for (const r of [undefined, ['a'], (k, v) => v]) {
  try { JSON.stringify(cyc, r); } catch (e) { console.log(e.name); }
}
try { JSON.stringify({ n: 1n }); } catch (e) { console.log(e.name); }
let deep = [];
for (let i = 0; i < 100; i++) deep = [i, deep];
console.log(deep.flat(Infinity).length, deep.flat(40).length, deep.flat(33).length, deep.flat().length, deep.flat(-1).length);
console.log(JSON.stringify([[1, [2, [3, [4]]]]].flat(2)), [1, , 3, [4, , 6]].flat().length);
console.log(Array.prototype.flat.length, JSON.stringify.length, JSON.stringify.name, [].join.name, [].join.length);
console.log(String([1, [2, [3, [4]]]]), [1, [2, 3]].join(';'), `${[[1], [2, [3]]]}`);
console.log(Array.prototype.toString === Object.getPrototypeOf(Uint8Array.prototype).toString);
console.log('ab'.repeat(3), 'x'.padStart(4, '12'), 'x'.padEnd(3), new Array(3).fill(0).join('-'));
const p = new Proxy({ a: 1 }, {});
console.log(p.a, typeof Proxy, Proxy.name, Proxy.length, Object.keys(Proxy.revocable({ b: 2 }, {}).proxy));
