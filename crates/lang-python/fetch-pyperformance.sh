#!/bin/sh
# Downloads the pyperformance wheel from PyPI (never committed) and unpacks
# its benchmarks into target/pyperformance, where the pyperformance test and
# the python benchmark look for them (or set SHIELD_PYPERFORMANCE to a
# data-files/benchmarks folder).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dest="$here/../../target/pyperformance"
version=1.14.0
mkdir -p "$dest"
python3 -m pip download --no-deps --only-binary=:all: -d "$dest" "pyperformance==$version"
python3 -m zipfile -e "$dest/pyperformance-$version-py3-none-any.whl" "$dest/wheel"
echo "benchmarks: $dest/wheel/pyperformance/data-files/benchmarks"
