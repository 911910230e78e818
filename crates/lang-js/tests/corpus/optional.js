const o = { a: { b: { c: 1 } }, f: () => 'called', arr: [1] };
console.log(o?.a?.b?.c, o.x?.y, o.f?.(), o.g?.(), o.arr?.[0], o.missing?.[0]);
let u; u ??= 'set'; let v = 'keep'; v ??= 'no'; let w = 0; w ||= 7; let t = 1; t &&= 2;
console.log(u, v, w, t);
console.log(null ?? 'a', undefined ?? 'b', false ?? 'c', 0 || 'd', (null || undefined) ?? 'e');
const deep = { l1: null }; console.log(deep.l1?.l2.l3, delete deep?.l1);
