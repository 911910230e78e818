# hash comment
// line comment
/* block
 comment */ print("a" /* inline */ + "b\n"); // trailing

