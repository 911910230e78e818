const math = require('./lib/math');
const util = require('./lib/util');
const again = require('./lib/math.js');
const data = require('./data/config.json');
console.log(math.add(2, 3), math.PI, util.shout('hi'), again === math, data.name, data.values.length);
console.log(typeof module, typeof exports, typeof require, __filename.endsWith('cjs.js'), require.main === module);
const { a, b } = require('./lib/cycle_a');
console.log(a, b);
try { require('./nope'); } catch (e) { console.log(e.code); }
console.log(require('path').join('a', 'b', '../c'), require('node:path').extname('x.tar.gz'));
