local a = [];
a.pop();
