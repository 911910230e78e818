console.log('before exit');
setTimeout(() => console.log('never runs'), 0);
try { process.exit(3); } finally { console.log('finally must not run'); }
console.log('after exit');
