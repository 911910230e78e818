try { throw "a"; } catch (e) { throw "b from " + e; }
