const fs = require('fs');
try { fs.readFileSync('does-not-exist.txt', 'utf8'); } catch (e) { console.log(e.code, e.message, e.syscall, e instanceof Error); }
try { fs.statSync('nothing'); } catch (e) { console.log(e.code); }
console.log(fs.statSync('nothing', { throwIfNoEntry: false }));
try { fs.readdirSync('nodir'); } catch (e) { console.log(e.code); }
// One after the other: in node the two finish in thread-pool order.
fs.readFile('missing', 'utf8', (err, data) => {
  console.log('callback', err.code, data);
  fs.promises.readFile('missing').catch((e) => console.log('promise', e.code));
});
