function foo(a, b) {} local i = foo.getinfos(); print(i.name + " " + i.parameters.len() + " " + i.native + "\n");
