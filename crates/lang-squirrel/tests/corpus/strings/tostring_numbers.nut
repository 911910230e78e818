print((5).tostring() + " " + (2.5).tostring() + " " + true.tostring() + "\n");
