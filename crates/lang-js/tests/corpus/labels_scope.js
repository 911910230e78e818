var hoisted = typeof later; function later() {} console.log(hoisted);
try { console.log(tdz); let tdz = 1; } catch (e) { console.log(e.name); }
{ let blockScoped = 'inner'; var fnScoped = 'visible'; } console.log(typeof blockScoped, fnScoped);
const obj = { method() { return this === obj; }, arrow: () => typeof this }; console.log(obj.method(), obj.arrow());
function strictThis() { 'use strict'; return this; } console.log(strictThis());
console.log(((a, b = a * 2, ...c) => [a, b, c])(1), ((x) => { 'use strict'; return x; })(5));
let shadow = 1; { let shadow = 2; console.log(shadow); } console.log(shadow);
