class A </ x = 1 /> { m = 0; } A.setattributes(null, {x = 2}); print(A.getattributes(null).x + "\n"); A.setattributes("m", {doc = "m"}); print(A.getattributes("m").doc + "\n");
