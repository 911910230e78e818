const p = Promise.reject(new Error('handled in the same tick'));
p.catch((e) => console.log('caught:', e.message));
console.log('end of script');
