try { try { throw "inner"; } catch (e) { print("1 " + e + "\n"); throw "outer"; } } catch (e) { print("2 " + e + "\n"); }
