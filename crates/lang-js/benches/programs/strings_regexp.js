// String building, regular expressions, replace and split (ES5).
var out = typeof print === 'function' ? print : console.log;
var words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta'];
var text = '';
for (var i = 0; i < 20000; i++) text += words[i % 8] + (i % 7 === 0 ? '. ' : ' ') + (i % 13) + ' ';
var count = 0, re = /([a-z]+)\s(\d+)/g, m;
while ((m = re.exec(text)) !== null) count += m[2].length;
var replaced = text.replace(/a(l|e)/g, function (s, c) { return c.toUpperCase(); });
var sentences = text.split('. ');
var caps = 0; for (var j = 0; j < sentences.length; j++) if (/^[a-z]+ \d/.test(sentences[j])) caps++;
var rev = ''; for (var k = 0; k < 2000; k++) rev = text.charAt(k) + rev;
out(count + ' ' + replaced.length + ' ' + sentences.length + ' ' + caps + ' ' + rev.length + ' ' + text.toUpperCase().indexOf('ZETA'));
