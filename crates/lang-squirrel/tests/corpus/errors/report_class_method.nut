class C { function m(z) { local w = z; return w.q; } } C().m(5);
