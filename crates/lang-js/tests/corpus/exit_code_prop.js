process.exitCode = 5;
setTimeout(() => console.log('timer still runs'), 1);
console.log('set exitCode');
