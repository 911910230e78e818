try { try { throw "x"; } catch (e) { throw e + "y"; } } catch (e2) { print(e2 + "\n"); }
