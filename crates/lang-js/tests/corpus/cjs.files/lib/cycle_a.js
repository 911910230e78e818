exports.a = 'a-partial';
const b = require('./cycle_b');
exports.a = 'a-done';
exports.b = b.b + ' saw ' + b.sawA;
