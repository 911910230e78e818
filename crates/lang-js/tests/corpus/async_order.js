// Timer delays far apart, so that node keeps this order on a loaded machine.
console.log('sync 1');
setTimeout(() => console.log('timeout 0'), 0);
setTimeout(() => console.log('timeout 200'), 200);
setTimeout(() => console.log('timeout 100'), 100);
Promise.resolve().then(() => console.log('micro 1')).then(() => console.log('micro 3'));
queueMicrotask(() => console.log('micro 2'));
(async () => { console.log('async body'); await 0; console.log('after await'); })();
setTimeout(() => { console.log('t1'); Promise.resolve().then(() => console.log('micro in t1')); }, 400);
setTimeout(() => console.log('t2'), 400);
console.log('sync 2');
