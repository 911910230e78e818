local a = [3,1];
a.sort(function(x,y) { throw "cmp"; });
