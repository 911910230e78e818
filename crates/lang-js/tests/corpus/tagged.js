function tag(strings, ...vals) { return strings.raw.map((s, i) => s + (i < vals.length ? `[${vals[i]}]` : '')).join(''); }
console.log(tag`a${1}b${'two'}c\n`);
const html = (s, ...v) => s.reduce((acc, str, i) => acc + str + (i < v.length ? String(v[i]).replace(/</g, '&lt;') : ''), '');
console.log(html`<p>${'<script>'}</p>`);
function cache(s) { return s; } const t1 = () => cache`x`; console.log(t1() === t1(), Object.isFrozen(t1()));
console.log(`multi
line`, `nested ${`inner ${1 + 1}`}`);
