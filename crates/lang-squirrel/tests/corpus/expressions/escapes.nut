print("tab\there\nq\"uote\\ \x41\x42\n"); print(@"verbatim \n ""quoted""" + "\n");
