const m = new Map(); for (const w of 'the cat and the hat and the bat'.split(' ')) m.set(w, (m.get(w) || 0) + 1);
const top = [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)); console.log(top.slice(0, 3));
const matrix = [[1, 2, 3], [4, 5, 6]]; const tr = matrix[0].map((_, i) => matrix.map((r) => r[i])); console.log(tr);
const zip = (...as) => as[0].map((_, i) => as.map((a) => a[i])); console.log(zip([1, 2], ['a', 'b']));
const chunk = (a, n) => Array.from({ length: Math.ceil(a.length / n) }, (_, i) => a.slice(i * n, i * n + n)); console.log(chunk([1, 2, 3, 4, 5], 2));
const uniqBy = (a, f) => [...new Map(a.map((x) => [f(x), x])).values()]; console.log(uniqBy([{ i: 1, v: 'a' }, { i: 1, v: 'b' }, { i: 2, v: 'c' }], (x) => x.i));
console.log(Array.from('hello').reduce((acc, ch) => ({ ...acc, [ch]: (acc[ch] || 0) + 1 }), {}));
