async function* gen() { for (let i = 0; i < 3; i++) { await new Promise((r) => setTimeout(r, 5)); yield i; } }
(async () => {
  for await (const x of gen()) console.log('got', x);
  for await (const v of [Promise.resolve('p1'), 'plain']) console.log(v);
  const it = { [Symbol.asyncIterator]() { let i = 0; return { next: async () => ({ done: i >= 2, value: i++ }) }; } };
  const vals = []; for await (const v of it) vals.push(v); console.log(vals);
})();
})();
