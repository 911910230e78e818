class ValidationError extends Error {
  constructor(field) { super(`bad field: ${field}`); this.name = 'ValidationError'; this.field = field; }
}
try { throw new ValidationError('age'); } catch (e) {
  console.log(e.name, e.message, e.field, e instanceof ValidationError, e instanceof Error, String(e));
}
const kinds = [() => null.x, () => undefinedVar, () => { 'use strict'; Object.freeze([]).push(1); }, () => new Array(-1), () => eval('1 +'), () => decodeURI('%')];
for (const k of kinds) { try { k(); } catch (e) { console.log(e.constructor.name, e instanceof Error); } }
function f() { try { return 'try'; } finally { console.log('finally runs'); } }
console.log(f());
const r = (() => { try { throw 1; } catch { return 'caught without binding'; } })(); console.log(r);
const agg = new AggregateError([new Error('a'), new Error('b')], 'many'); console.log(agg.errors.length, agg.message);
const withCause = new Error('outer', { cause: 'inner' }); console.log(withCause.cause);
try { try { throw new Error('first'); } finally { console.log('cleanup'); } } catch (e) { console.log('outer got', e.message); }
console.log(typeof new Error('x').stack, new RangeError('r').name, Error('no new').message);
