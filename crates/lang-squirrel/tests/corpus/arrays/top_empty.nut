local a = []; a.top();
