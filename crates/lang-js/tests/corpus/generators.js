function* range(a, b, s = 1) { for (let i = a; i < b; i += s) yield i; }
console.log([...range(0, 10, 3)].join());
function* fibs() { let [a, b] = [0, 1]; for (;;) { yield a; [a, b] = [b, a + b]; } }
const out = []; for (const f of fibs()) { if (f > 100) break; out.push(f); } console.log(out.join(' '));
function* echo() { let got = yield 'first'; while (true) got = yield 'got ' + got; }
const e = echo(); console.log(e.next().value, e.next('a').value, e.next('b').value, e.return('done'), e.next());
const iterable = { *[Symbol.iterator]() { yield 1; yield 2; } };
console.log(Array.from(iterable), Math.max(...iterable));
function* delegate() { yield* [1, 2]; const r = yield* inner(); yield r; }
function* inner() { yield 'i'; return 'ret'; }
console.log([...delegate()].join());
const it = [10, 20].entries(); console.log(it.next().value, [...it]);
const take = (n, g) => { const r = []; for (const x of g) { if (r.length >= n) break; r.push(x); } return r; };
console.log(take(3, range(5, 100)).join());
try { const g = range(0, 2); g.next(); g.throw(new Error('thrown in')); } catch (x) { console.log(x.message); }
