class Animal {
  #secret = 42;
  static count = 0;
  static { Animal.registry = []; }
  constructor(name) { this.name = name; Animal.count++; Animal.registry.push(name); }
  speak() { return `${this.name} makes a sound`; }
  get secret() { return this.#secret; }
  #hidden() { return 'hidden'; }
  reveal() { return this.#hidden(); }
  static create(n) { return new this(n); }
  toString() { return `Animal(${this.name})`; }
}
class Dog extends Animal {
  speak() { return super.speak() + ' (woof)'; }
}
const d = Dog.create('Rex');
console.log(d.speak(), d.secret, d.reveal(), Animal.count, Animal.registry, String(d));
console.log(d instanceof Animal, Object.getPrototypeOf(Dog) === Animal, Dog.name, typeof Dog);
console.log(d);
class Point { constructor(x, y) { this.x = x; this.y = y; } }
console.log(new Point(1, 2), [new Point(3, 4)]);
class Temp { static #c = 0; static inc() { return ++Temp.#c; } }
Temp.inc(); console.log(Temp.inc());
try { class A { #x; static has(o) { return #x in o; } } console.log(A.has(new A()), A.has({})); } catch (e) { console.log('err', e.message); }
const Mixin = (B) => class extends B { mixed() { return 'mixed'; } };
class M extends Mixin(Object) {}
console.log(new M().mixed());
