const s = Symbol('desc');
console.log(s.toString(), s.description, typeof s, Symbol.for('k') === Symbol.for('k'), Symbol.keyFor(Symbol.for('k')));
const money = { amount: 5, [Symbol.toPrimitive](hint) { return hint === 'number' ? this.amount : `$${this.amount}`; } };
console.log(+money, `${money}`, money + 1);
class Coll { constructor() { this.items = ['a', 'b']; } *[Symbol.iterator]() { yield* this.items; } get [Symbol.toStringTag]() { return 'Coll'; } }
console.log([...new Coll()].join(), Object.prototype.toString.call(new Coll()));
const o = { [s]: 1, regular: 2 };
console.log(Object.keys(o), Object.getOwnPropertySymbols(o).length, JSON.stringify(o));
class Even { static [Symbol.hasInstance](n) { return n % 2 === 0; } }
console.log(2 instanceof Even, 3 instanceof Even);
const arr = [1, 2]; arr[Symbol.isConcatSpreadable] = false; console.log([0].concat(arr).length);
