function Shape(name) { this.name = name; }
Shape.prototype.describe = function () { return 'I am ' + this.name; };
function Circle(r) { Shape.call(this, 'circle'); this.r = r; }
Circle.prototype = Object.create(Shape.prototype); Circle.prototype.constructor = Circle;
Circle.prototype.area = function () { return +(Math.PI * this.r ** 2).toFixed(2); };
const c = new Circle(2);
console.log(c.describe(), c.area(), c instanceof Shape, Object.keys(c), c.constructor.name);
console.log(Object.getPrototypeOf(Object.getPrototypeOf(c)) === Shape.prototype, Shape.prototype.isPrototypeOf(c));
const bound = c.describe.bind({ name: 'bound' }); console.log(bound(), bound.name);
console.log(Math.max.apply(null, [1, 9, 3]), Array.prototype.map.call('abc', (ch) => ch + ch).join(''));
