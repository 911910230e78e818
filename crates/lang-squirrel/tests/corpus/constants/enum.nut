enum Color { Red, Green = 5, Blue } print(Color.Red + " " + Color.Green + " " + Color.Blue + "\n");
