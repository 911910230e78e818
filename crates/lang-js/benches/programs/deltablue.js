// A one-way constraint solver in the spirit of DeltaBlue (ES5; written for
// this suite): chains and projections of equality and scale constraints,
// re-planned after each edit, walking the graph by strength.
var out = typeof print === 'function' ? print : console.log;
function Variable(name, value) { this.name = name; this.value = value; this.constraints = []; this.determinedBy = null; this.stay = true; this.walk = 0; }
function Constraint(strength) { this.strength = strength; }
function EqualityConstraint(a, b, strength) { this.a = a; this.b = b; this.strength = strength; this.output = b; a.constraints.push(this); b.constraints.push(this); }
EqualityConstraint.prototype.execute = function () { if (this.output === this.b) this.b.value = this.a.value; else this.a.value = this.b.value; };
EqualityConstraint.prototype.input = function () { return this.output === this.b ? this.a : this.b; };
function ScaleConstraint(src, scale, offset, dest, strength) { this.a = src; this.b = dest; this.scale = scale; this.offset = offset; this.strength = strength; this.output = dest; src.constraints.push(this); dest.constraints.push(this); }
ScaleConstraint.prototype.execute = function () {
  if (this.output === this.b) this.b.value = this.a.value * this.scale.value + this.offset.value;
  else this.a.value = (this.b.value - this.offset.value) / this.scale.value;
};
ScaleConstraint.prototype.input = EqualityConstraint.prototype.input;
function Planner() { this.mark = 0; }
Planner.prototype.propagateFrom = function (v) {
  this.mark++;
  var todo = [v], count = 0;
  v.walk = this.mark;
  while (todo.length > 0) {
    var cur = todo.pop();
    for (var i = 0; i < cur.constraints.length; i++) {
      var c = cur.constraints[i];
      if (c.input() === cur && c.output.walk !== this.mark) {
        c.execute(); count++; c.output.walk = this.mark; todo.push(c.output);
      }
    }
  }
  return count;
};
function chainTest(n) {
  var planner = new Planner(), vars = [], i;
  for (i = 0; i <= n; i++) vars.push(new Variable('v' + i, 0));
  for (i = 0; i < n; i++) new EqualityConstraint(vars[i], vars[i + 1], 1);
  var total = 0;
  for (i = 0; i < 100; i++) { vars[0].value = i; total += planner.propagateFrom(vars[0]); if (vars[n].value !== i) throw new Error('chain failed'); }
  return total;
}
function projectionTest(n) {
  var planner = new Planner(), scale = new Variable('scale', 10), offset = new Variable('offset', 1000), src, dst, dests = [], srcs = [], i;
  for (i = 0; i < n; i++) { src = new Variable('src' + i, i); dst = new Variable('dst' + i, i); srcs.push(src); dests.push(dst); new ScaleConstraint(src, scale, offset, dst, 2); }
  var total = 0;
  for (i = 0; i < n; i++) { srcs[i].value = i + 17; total += planner.propagateFrom(srcs[i]); if (dests[i].value !== (i + 17) * 10 + 1000) throw new Error('projection failed'); }
  return total;
}
var sum = 0;
for (var k = 0; k < 20; k++) sum += chainTest(1000) + projectionTest(1000);
out('deltablue ' + sum);
