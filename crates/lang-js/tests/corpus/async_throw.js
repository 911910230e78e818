async function work() { await null; throw new TypeError('async failure'); }
work();
console.log('sync done');
