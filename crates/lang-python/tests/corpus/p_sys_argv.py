import sys
print(sys.argv[1:], len(sys.argv))
print(sys.argv[0].endswith("p_sys_argv.py"))
print(sys.version_info[0], sys.maxsize == 2 ** 63 - 1, sys.byteorder)
