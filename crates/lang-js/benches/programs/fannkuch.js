// Fannkuch-redux (ES5).
var out = typeof print === 'function' ? print : console.log;
function fannkuch(n) {
  var perm = [], perm1 = [], count = [], i, maxFlips = 0, checksum = 0, permCount = 0, r = n;
  for (i = 0; i < n; i++) { perm1[i] = i; perm[i] = 0; count[i] = 0; }
  while (true) {
    while (r !== 1) { count[r - 1] = r; r--; }
    for (i = 0; i < n; i++) perm[i] = perm1[i];
    var flips = 0, k;
    while ((k = perm[0]) !== 0) {
      var k2 = (k + 1) >> 1;
      for (i = 0; i < k2; i++) { var t = perm[i]; perm[i] = perm[k - i]; perm[k - i] = t; }
      flips++;
    }
    if (flips > maxFlips) maxFlips = flips;
    checksum += permCount % 2 === 0 ? flips : -flips;
    while (true) {
      if (r === n) return [checksum, maxFlips];
      var p0 = perm1[0];
      for (i = 0; i < r; i++) perm1[i] = perm1[i + 1];
      perm1[r] = p0;
      count[r]--;
      if (count[r] > 0) break;
      r++;
    }
    permCount++;
  }
}
var res = fannkuch(9);
out(res[0] + ' Pfannkuchen(9) = ' + res[1]);
