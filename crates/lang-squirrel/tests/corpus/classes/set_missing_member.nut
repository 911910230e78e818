class X {} local x = X(); x.nothing = 1;
