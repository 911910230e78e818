// String building, regular expressions, replace and split (ES5). Sized for
// mujs, whose string indexing is linear in UTF-8: one 20,000-word text
// takes it minutes, so this works on 4,000 words, 15 times.
var out = typeof print === 'function' ? print : console.log;
var words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta'];
function work() {
  var text = '';
  for (var i = 0; i < 4000; i++) text += words[i % 8] + (i % 7 === 0 ? '. ' : ' ') + (i % 13) + ' ';
  var count = 0, re = /([a-z]+)\s(\d+)/g, m;
  while ((m = re.exec(text)) !== null) count += m[2].length;
  var replaced = text.replace(/a(l|e)/g, function (s, c) { return c.toUpperCase(); });
  var sentences = text.split('. ');
  var caps = 0;
  for (var j = 0; j < sentences.length; j++) if (/^[a-z]+ \d/.test(sentences[j])) caps++;
  var rev = '';
  for (var k = 0; k < 2000; k++) rev = text.charAt(k) + rev;
  return count + ' ' + replaced.length + ' ' + sentences.length + ' ' + caps + ' ' + rev.length + ' ' + text.toUpperCase().indexOf('ZETA');
}
var r;
for (var n = 0; n < 15; n++) r = work();
out(r);
