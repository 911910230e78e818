try { throw "oops"; } catch (e) { print("caught " + e + "\n"); } try { local x = 1 / 0; } catch (e) { print(e + "\n"); }
