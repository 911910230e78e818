// Parsing key=value pairs with captures.
local kv = regexp(@"(\w+)=(\w+)");
local text = "a=1 bb=22 ccc=333";
local pos = 0;
while (true) {
  local c = kv.capture(text, pos);
  if (c == null) break;
  print(text.slice(c[1].begin, c[1].end) + " -> " + text.slice(c[2].begin, c[2].end) + "\n");
  pos = c[0].end;
}
local date = regexp(@"^(\d\d\d\d)-(\d\d)-(\d\d)$");
foreach (d in ["2024-01-31", "24-1-3", "2024-13-01x"]) print(d + " " + date.match(d) + "\n");
local ws = regexp(@"\s+");
local m = ws.search("hello   world");
print(m.begin + "," + m.end + "\n");
print(regexp("colou?r").match("color") + " " + regexp("colou?r").match("colour") + " " + regexp("[[:]").match(":") + "\n");
print(regexp(@"\d{3}").search("ab12345").begin + " " + regexp(@"[a-c]{2,}").search("xxabcabd").end + "\n");
print(regexp("a|b|c").capture("zzc")[0].begin + "\n");
