const d = new Date(Date.UTC(2024, 1, 29, 13, 45, 30, 123));
console.log(d.toISOString(), d.getTime(), d.getUTCDay(), d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
console.log(JSON.stringify({ d }), new Date('2020-01-01T00:00:00Z').getTime(), Date.UTC(1970, 0, 2));
const e = new Date(0); e.setUTCFullYear(2000); e.setUTCDate(e.getUTCDate() + 45); console.log(e.toISOString());
console.log(new Date(NaN).getTime(), isNaN(new Date('garbage')), new Date(8.64e15).toISOString());
console.log(typeof Date.now(), Date.now() > 1.6e12, new Date(2020, 0, 1) instanceof Date);
console.log(new Date('2024-03-10T10:00:00.000Z').toUTCString(), Date.parse('2001-02-03T04:05:06Z'));
