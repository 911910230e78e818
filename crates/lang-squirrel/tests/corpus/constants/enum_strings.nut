enum Dir { Up = "U", Down = "D" } print(Dir.Up + Dir.Down + "\n");
