import { add, counter, increment } from './esm/math.mjs';
import greet, { VERSION } from './esm/greet.mjs';
import * as ns from './esm/math.mjs';
import data from './esm/data.json' with { type: 'json' };
console.log(add(1, 2), greet('esm'), VERSION, Object.keys(ns).sort().join(), data.ok);
console.log(counter); increment(); console.log(counter, ns.counter);
console.log(typeof require, typeof module, import.meta !== undefined);
const top = await Promise.resolve('top-level await'); console.log(top);
