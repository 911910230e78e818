// Summary statistics over { site, value } records.
function summary(readings) {
  let total = 0, max = -Infinity, maxSite = null;
  const bySite = {}, siteNames = [];
  for (const r of readings) {
    total += r.value;
    if (r.value > max) { max = r.value; maxSite = r.site; }
    if (!(r.site in bySite)) { siteNames.push(r.site); bySite[r.site] = 0; }
    bySite[r.site] += r.value;
  }
  siteNames.sort();
  return {
    count: readings.length,
    sites: siteNames.length,
    mean: total / readings.length,
    max, maxSite, bySite, siteNames,
  };
}

module.exports = { summary };
