const data = { name: 'x', list: [1, 2, { deep: true }], nothing: null, skip: undefined, f() {}, date: new Date(0) };
console.log(JSON.stringify(data));
console.log(JSON.stringify(data, null, 2));
console.log(JSON.stringify([1, 'a', undefined, () => 1]), JSON.stringify('he said "hi"\n'));
console.log(JSON.stringify({ a: 1, b: 2, c: 3 }, ['a', 'c']), JSON.stringify({ a: 5 }, (k, v) => (typeof v === 'number' ? v * 2 : v)));
const parsed = JSON.parse('{"a":[1,2,{"b":"c"}],"n":-1.5e3,"t":true,"u":"\\u00e9"}');
console.log(parsed.a[2].b, parsed.n, parsed.t, parsed.u);
console.log(JSON.parse('[1,2,3]', (k, v) => (Array.isArray(v) ? v : v * 10)));
try { JSON.parse('{bad}'); } catch (e) { console.log(e.name); }
console.log(JSON.stringify({ toJSON() { return 'custom'; } }), JSON.stringify(new Map([[1, 2]])), JSON.stringify(1n === 1n));
const circ = {}; circ.self = circ; try { JSON.stringify(circ); } catch (e) { console.log(e.name); }
console.log(JSON.stringify('\u2028\ud800'), JSON.stringify({ k: [] }, null, '--'));
