// Delays far apart, so that node's real-time timers keep this order on a
// loaded machine too.
let n = 0;
const id = setInterval(() => { n++; console.log('tick', n); if (n === 3) { clearInterval(id); console.log('cleared'); } }, 100);
const t = setTimeout(() => console.log('never'), 150); clearTimeout(t);
setTimeout((a, b) => console.log('args', a, b), 5, 'x', 'y');
setTimeout(() => { console.log('outer'); setTimeout(() => console.log('inner'), 0); }, 1000);
setImmediate(() => console.log('immediate'));
