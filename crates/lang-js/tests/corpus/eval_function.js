const add = new Function('a', 'b', 'return a + b');
console.log(add(2, 3), eval('1 + 2 * 3'), typeof eval('(function(){ return 1 })'));
const x = 'outer'; (function () { const x = 'inner'; console.log(eval('x'), (0, eval)('typeof x')); })();
console.log(globalThis === this || typeof globalThis, typeof globalThis.console, 'setTimeout' in globalThis);
