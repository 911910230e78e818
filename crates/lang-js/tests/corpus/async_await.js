const sleep = (ms, v) => new Promise((r) => setTimeout(() => r(v), ms));
async function main() {
  const a = await sleep(30, 'a');
  const [b, c] = await Promise.all([sleep(20, 'b'), sleep(10, 'c')]);
  console.log(a, b, c);
  console.log(await Promise.race([sleep(50, 'slow'), sleep(5, 'fast')]));
  console.log(await Promise.any([Promise.reject(new Error('x')), sleep(5, 'any')]));
  const settled = await Promise.allSettled([Promise.resolve(1), Promise.reject(new Error('no'))]);
  console.log(settled.map((s) => s.status + ':' + (s.value ?? s.reason.message)).join());
  try { await Promise.reject(new TypeError('rejected')); } catch (e) { console.log('caught', e.name, e.message); }
  try { await Promise.any([Promise.reject(1)]); } catch (e) { console.log(e.constructor.name, e.errors); }
  return 'done';
}
main().then((v) => console.log(v)).finally(() => console.log('finally'));
