local t = {inner = {x = {y = 5}}}; print(t.inner.x.y + "\n"); t.inner.x.y += 1; print(t.inner.x.y + "\n");
