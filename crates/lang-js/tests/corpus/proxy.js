const log = [];
const target = { a: 1 };
const p = new Proxy(target, {
  get(t, k, r) { log.push('get ' + String(k)); return Reflect.get(t, k, r); },
  set(t, k, v) { log.push('set ' + k); t[k] = v * 2; return true; },
  has(t, k) { return k === 'magic' || k in t; },
  deleteProperty(t, k) { log.push('del ' + k); return delete t[k]; },
});
p.b = 5; console.log(p.a, p.b, 'magic' in p, 'zzz' in p); delete p.a;
console.log(log.join('; '), target);
console.log(Reflect.ownKeys({ x: 1, [Symbol.iterator]: 2 }).length, Reflect.has({ y: 1 }, 'y'));
const neg = new Proxy([1, 2, 3], { get: (t, k) => (typeof k === 'string' && /^-\d+$/.test(k) ? t[t.length + +k] : t[k]) });
console.log(neg[-1], neg[0]);
const fnp = new Proxy(function (a, b) { return a + b; }, { apply: (t, th, args) => t(...args) * 10 });
console.log(fnp(1, 2));
console.log(Reflect.apply(Math.max, null, [1, 5, 3]), Reflect.construct(Date, [0]).getTime());
