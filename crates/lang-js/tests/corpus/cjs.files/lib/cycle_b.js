const a = require('./cycle_a');
exports.sawA = a.a;
exports.b = 'b-done';
