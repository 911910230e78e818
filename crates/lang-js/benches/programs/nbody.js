// N-body simulation (ES5, so that mujs runs it too).
var out = typeof print === 'function' ? print : console.log;
function run() {
  var PI = Math.PI, SOLAR_MASS = 4 * PI * PI, DAYS = 365.24;
  function body(x, y, z, vx, vy, vz, m) { return { x: x, y: y, z: z, vx: vx * DAYS, vy: vy * DAYS, vz: vz * DAYS, mass: m * SOLAR_MASS }; }
  var bodies = [
    body(0, 0, 0, 0, 0, 0, 1),
    body(4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01, 1.66007664274403694e-03, 7.69901118419740425e-03, -6.90460016972063023e-05, 9.54791938424326609e-04),
    body(8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01, -2.76742510726862411e-03, 4.99852801234917238e-03, 2.30417297573763929e-05, 2.85885980666130812e-04),
    body(1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01, 2.96460137564761618e-03, 2.37847173959480950e-03, -2.96589568540237556e-05, 4.36624404335156298e-05),
    body(1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01, 2.68067772490389322e-03, 1.62824170038242295e-03, -9.51592254519715870e-05, 5.15138902046611451e-05)
  ];
  var px = 0, py = 0, pz = 0, i, j, n = bodies.length;
  for (i = 0; i < n; i++) { px += bodies[i].vx * bodies[i].mass; py += bodies[i].vy * bodies[i].mass; pz += bodies[i].vz * bodies[i].mass; }
  bodies[0].vx = -px / SOLAR_MASS; bodies[0].vy = -py / SOLAR_MASS; bodies[0].vz = -pz / SOLAR_MASS;
  function energy() {
    var e = 0, i, j;
    for (i = 0; i < n; i++) {
      var b = bodies[i];
      e += 0.5 * b.mass * (b.vx * b.vx + b.vy * b.vy + b.vz * b.vz);
      for (j = i + 1; j < n; j++) { var c = bodies[j]; var dx = b.x - c.x, dy = b.y - c.y, dz = b.z - c.z; e -= b.mass * c.mass / Math.sqrt(dx * dx + dy * dy + dz * dz); }
    }
    return e;
  }
  function advance(dt) {
    for (var i = 0; i < n; i++) {
      var b = bodies[i];
      for (var j = i + 1; j < n; j++) {
        var c = bodies[j];
        var dx = b.x - c.x, dy = b.y - c.y, dz = b.z - c.z;
        var d2 = dx * dx + dy * dy + dz * dz;
        var mag = dt / (d2 * Math.sqrt(d2));
        b.vx -= dx * c.mass * mag; b.vy -= dy * c.mass * mag; b.vz -= dz * c.mass * mag;
        c.vx += dx * b.mass * mag; c.vy += dy * b.mass * mag; c.vz += dz * b.mass * mag;
      }
    }
    for (i = 0; i < n; i++) { var d = bodies[i]; d.x += dt * d.vx; d.y += dt * d.vy; d.z += dt * d.vz; }
  }
  var e0 = energy();
  for (i = 0; i < 100000; i++) advance(0.01);
  out(e0.toFixed(9) + ' ' + energy().toFixed(9));
}
run();
