function quicksort(a) { if (a.length < 2) return a; const [p, ...r] = a; return [...quicksort(r.filter((x) => x < p)), p, ...quicksort(r.filter((x) => x >= p))]; }
function mergesort(a) { if (a.length < 2) return a; const m = a.length >> 1; const l = mergesort(a.slice(0, m)), r = mergesort(a.slice(m)); const o = []; while (l.length && r.length) o.push(l[0] <= r[0] ? l.shift() : r.shift()); return o.concat(l, r); }
let seed = 12345; const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const data = Array.from({ length: 200 }, () => Math.floor(rnd() * 1000));
const q = quicksort(data), m = mergesort(data), s = [...data].sort((a, b) => a - b);
console.log(q.join() === s.join(), m.join() === s.join(), s.slice(0, 5).join(), s.slice(-3).join());
const bins = new Array(10).fill(0); for (const x of data) bins[Math.floor(x / 100)]++; console.log(bins.join(' '));
function binsearch(a, x) { let lo = 0, hi = a.length - 1; while (lo <= hi) { const mid = (lo + hi) >> 1; if (a[mid] === x) return mid; if (a[mid] < x) lo = mid + 1; else hi = mid - 1; } return -1; }
console.log(binsearch(s, s[100]) >= 0, binsearch(s, -1));
