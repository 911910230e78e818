local ex = regexp(@"(\d+) ([a-zA-Z]+)(\p)");
local string = "stuff 123 Test;";
local res = ex.capture(string);
foreach (i, val in res) print(format("match number[%02d] %s\n", i, string.slice(val.begin, val.end)));
print(ex.subexpcount() + "\n");
local w = regexp("[a-zA-Z]+");
local r = w.search("123 Test;");
print(r.begin + " " + r.end + "\n");
print(regexp("^a.c$").match("abc") + " " + regexp("^a.c$").match("abcd") + " " + regexp("b+").match("bbb") + " " + regexp("b+").match("abbb") + "\n");
print(regexp("x|yz").search("aayz").begin + "\n");
print(regexp("a{2,3}").search("caaaab").end + "\n");
print((regexp("q").search("abc") == null) + "\n");
local words = regexp(@"\w+"); local pos = 0; local s = "one two  three"; local n = 0;
while (true) { local m = words.search(s, pos); if (m == null) break; n++; pos = m.end; }
print(n + " " + typeof words + "\n");
print(regexp("(?:ab)+c").match("ababc") + " " + regexp("[^0-9]+").match("abc") + "\n");
