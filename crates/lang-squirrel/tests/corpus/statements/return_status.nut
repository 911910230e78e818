// The main script's integer return value is the exit status.
print("before\n");
return 7;
