foreach (v in [1, "s", 2.5, true]) { try { throw v; } catch (e) { print(typeof e + " " + e + "\n"); } } try { throw {code = 7}; } catch (e) { print(e.code + "\n"); }
