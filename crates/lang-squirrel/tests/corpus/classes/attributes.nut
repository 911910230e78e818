class W </ tag = "widget", ver = 2 /> { </ doc = "the size" /> size = 1; } local a = W.getattributes(null); print(a.tag + " " + a.ver + "\n"); print(W.getattributes("size").doc + "\n");
