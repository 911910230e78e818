print(@"C:\path\to" + " " + @"say ""hi""" + "\n");
