// JSON stringify and parse of a mid-sized document, repeatedly (ES5).
var out = typeof print === 'function' ? print : console.log;
var doc = { users: [] };
for (var i = 0; i < 500; i++) doc.users.push({ id: i, name: 'user' + i, tags: ['a', 'b', 'c' + (i % 10)], score: i * 1.5, active: i % 2 === 0, address: { city: 'c' + (i % 50), zip: 10000 + i } });
var total = 0;
for (var r = 0; r < 30; r++) {
  var s = JSON.stringify(doc);
  var back = JSON.parse(s);
  total += s.length + back.users[r].id;
}
out('json ' + total);
