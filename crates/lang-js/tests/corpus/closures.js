function counter() { let n = 0; return { inc: () => ++n, get: () => n }; }
const c1 = counter(), c2 = counter();
c1.inc(); c1.inc(); c2.inc();
console.log(c1.get(), c2.get());
const fns = []; for (let i = 0; i < 3; i++) fns.push(() => i); console.log(fns.map((f) => f()).join());
const gs = []; for (var j = 0; j < 3; j++) gs.push(() => j); console.log(gs.map((f) => f()).join());
const memo = (f) => { const cache = new Map(); return (x) => cache.has(x) ? cache.get(x) : (cache.set(x, f(x)), cache.get(x)); };
const fib = memo((n) => (n < 2 ? n : fib(n - 1) + fib(n - 2)));
console.log(fib(80));
const compose = (...f) => (x) => f.reduceRight((v, g) => g(v), x);
console.log(compose((x) => x + 1, (x) => x * 2)(5));
function curry(f) { return function c(...a) { return a.length >= f.length ? f(...a) : (...b) => c(...a, ...b); }; }
console.log(curry((a, b, c) => a + b + c)(1)(2)(3));
console.log((function () { return typeof this; })(), (() => typeof arguments)());
function outer() { return arguments.length; } console.log(outer(1, 2, 3));
console.log(function named() {}.name, (() => {}).name, (function () {}).length, ((a, b = 1) => {}).length);
