function f(a) {
  local b = a * 2;
  local i = getstackinfos(1);
  print(i.func + " " + i.src + " " + i.line + "\n");
  local ks = []; foreach (k, v in i.locals) if (k != "this") ks.append(k + "=" + v); ks.sort();
  foreach (k in ks) print(k + "\n");
  local j = getstackinfos(2);
  print(j.func + " " + j.line + "\n");
  print(getstackinfos(10) + "\n");
}
f(21);
