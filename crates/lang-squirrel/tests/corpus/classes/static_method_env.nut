class Util { static function twice(x) { return x * 2; } } print(Util.twice(21) + "\n");
