console.log('output before the error');
function deep(n) { if (n === 0) throw new RangeError('too deep: ' + n); return deep(n - 1); }
deep(3);
console.log('never');
