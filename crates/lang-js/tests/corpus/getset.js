class Temperature {
  #c = 0;
  get fahrenheit() { return this.#c * 9 / 5 + 32; }
  set fahrenheit(f) { this.#c = (f - 32) * 5 / 9; }
  get celsius() { return this.#c; }
}
const t = new Temperature(); t.fahrenheit = 212; console.log(t.celsius, t.fahrenheit);
const o = {}; let hits = 0;
Object.defineProperty(o, 'lazy', { get() { hits++; Object.defineProperty(this, 'lazy', { value: 'computed' }); return 'computed'; }, configurable: true });
console.log(o.lazy, o.lazy, hits);
const desc = Object.getOwnPropertyDescriptor({ get g() { return 1; } }, 'g'); console.log(typeof desc.get, desc.set, desc.enumerable);
const sealed = Object.seal({ a: 1 }); sealed.a = 2; sealed.b = 3; console.log(sealed, Object.isSealed(sealed));
