function ser(v, indent = "") {
  switch (typeof v) {
    case "table": {
      local keys = [];
      foreach (k, _ in v) keys.append(k);
      keys.sort();
      local out = "{\n";
      foreach (k in keys) out += indent + "  " + k + ": " + ser(v[k], indent + "  ") + "\n";
      return out + indent + "}";
    }
    case "array": {
      local parts = v.map(@(x) ser(x, indent));
      local out = "[";
      foreach (i, p in parts) out += (i > 0 ? ", " : "") + p;
      return out + "]";
    }
    case "string": return "\"" + v + "\"";
    default: return "" + v;
  }
}
print(ser({name = "sq", nums = [1, 2.5, -3], nested = {ok = true, none = null}, list = [[1], []]}) + "\n");
