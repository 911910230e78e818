const names = ['alpha', 'beta'];
for (const n of names) { const m = await import(`./plugins/${n}.mjs`); console.log(m.default(), m.name); }
try { await import('./plugins/missing.mjs'); } catch (e) { console.log('missing import failed', e instanceof Error); }
const again = await import('./plugins/alpha.mjs'); console.log(again.name);
