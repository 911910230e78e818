setTimeout(() => { console.log('exiting from timer'); process.exit(7); }, 10);
setTimeout(() => console.log('should not print'), 20);
Promise.resolve().then(() => console.log('microtask before timers'));
