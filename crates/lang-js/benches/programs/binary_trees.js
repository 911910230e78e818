// Binary trees (ES5): allocation and recursion.
var out = typeof print === 'function' ? print : console.log;
function Node(l, r) { this.left = l; this.right = r; }
function make(d) { return d === 0 ? new Node(null, null) : new Node(make(d - 1), make(d - 1)); }
function check(t) { return t.left === null ? 1 : 1 + check(t.left) + check(t.right); }
function run(maxDepth) {
  var stretch = maxDepth + 1;
  out('stretch tree of depth ' + stretch + '\t check: ' + check(make(stretch)));
  var longLived = make(maxDepth);
  for (var d = 4; d <= maxDepth; d += 2) {
    var iters = 1 << (maxDepth - d + 4), c = 0;
    for (var i = 0; i < iters; i++) c += check(make(d));
    out(iters + '\t trees of depth ' + d + '\t check: ' + c);
  }
  out('long lived tree of depth ' + maxDepth + '\t check: ' + check(longLived));
}
run(14);
