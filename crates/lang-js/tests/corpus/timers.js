let n = 0;
const id = setInterval(() => { n++; console.log('tick', n); if (n === 3) { clearInterval(id); console.log('cleared'); } }, 10);
const t = setTimeout(() => console.log('never'), 15); clearTimeout(t);
setTimeout((a, b) => console.log('args', a, b), 5, 'x', 'y');
setTimeout(() => { console.log('outer'); setTimeout(() => console.log('inner'), 0); }, 100);
setImmediate(() => console.log('immediate'));
