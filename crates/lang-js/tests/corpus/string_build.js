let s = '';
for (let i = 0; i < 2000; i++) s += String.fromCharCode(97 + (i % 26));
console.log(s.length, s.slice(0, 30), s.split('z').length);
const parts = []; for (let i = 0; i < 100; i++) parts.push(i.toString(36)); console.log(parts.join('').length, parts.slice(30, 40).join('|'));
const csv = 'name,age\nann,31\nbob,27\ncid,45'; const rows = csv.split('\n').slice(1).map((r) => r.split(','));
console.log(rows.map(([n, a]) => `${n.padEnd(5, '.')}${a}`).join(' '), rows.reduce((t, r) => t + +r[1], 0));
let h = 0; for (const ch of s) h = (h * 31 + ch.charCodeAt(0)) | 0; console.log(h);
console.log('word '.repeat(5).trimEnd().split(' ').map((w, i) => w + i).join('-'));
const caesar = (t, k) => t.replace(/[a-z]/g, (c) => String.fromCharCode(((c.charCodeAt(0) - 97 + k) % 26) + 97)); console.log(caesar('hello world', 3));
