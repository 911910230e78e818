// The demo's shielded script: an ordinary Squirrel program, unmodified.
// It reads confidential sensor readings, summarises them with a script
// from its bundle, and writes a report file.
local stats = dofile("lib/stats.nut");

local function read_text(path) {
    local f = file(path, "r");
    local bytes = f.readblob(f.len());
    f.close();
    local text = "";
    foreach (b in bytes) text += b.tochar();
    return text;
}

local readings = [];
local line_ex = regexp(@"^([^,#]+),([0-9.]+)$");
foreach (line in split(read_text("data/readings.csv"), "\n")) {
    local m = line_ex.capture(line);
    if (m != null) {
        readings.append({
            site = line.slice(m[1].begin, m[1].end),
            value = line.slice(m[2].begin, m[2].end).tofloat()
        });
    }
}

local s = stats.summary(readings);
print(format("%d readings from %d sites; mean %.2f, highest %.2f at %s\n",
    s.count, s.sites, s.mean, s.max, s.max_site));

local report = file("report.txt", "w");
foreach (site in s.site_names) {
    local row = format("%-24s %8.2f\n", site, s.by_site[site]);
    foreach (c in row) report.writen(c, 'c');
}
report.close();
print("wrote report.txt\n");
