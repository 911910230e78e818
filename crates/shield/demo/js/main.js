// The demo's shielded script: an ordinary Node-style program, unmodified.
// It reads confidential sensor readings, summarises them with a module
// from its bundle, and writes a report file.
const fs = require('fs');
const stats = require('./lib/stats.js');

const readings = [];
for (const line of fs.readFileSync('data/readings.csv', 'utf8').split('\n')) {
  const match = /^([^,#]+),([\d.]+)$/.exec(line);
  if (match) readings.push({ site: match[1], value: Number(match[2]) });
}

const s = stats.summary(readings);
console.log(`${s.count} readings from ${s.sites} sites; mean ${s.mean.toFixed(2)}, ` +
  `highest ${s.max.toFixed(2)} at ${s.maxSite}`);

const lines = s.siteNames.map(
  (site) => site.padEnd(24) + ' ' + s.bySite[site].toFixed(2).padStart(8) + '\n');
fs.writeFileSync('report.txt', lines.join(''));
console.log('wrote report.txt');
