#!/bin/sh
# The project's tests: prints the first failing case on stderr and exits 1.
fail() { echo "FAIL: $1" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

printf 'one two three\nfour five\n' > "$dir/a.txt"
out=$(sh wordcount.sh "$dir/a.txt") || fail "wordcount.sh a.txt exited with status $?"
[ "$out" = "5" ] || fail "a.txt has 5 words, wordcount.sh printed '$out'"

: > "$dir/empty.txt"
out=$(sh wordcount.sh "$dir/empty.txt")
[ "$out" = "0" ] || fail "empty.txt has 0 words, wordcount.sh printed '$out'"

if out=$(sh wordcount.sh "$dir/missing.txt" 2>&1); then
  fail "a missing file must make wordcount.sh fail"
fi
[ "$out" = "wordcount: no such file: $dir/missing.txt" ] ||
  fail "a missing file must print 'wordcount: no such file: PATH', got '$out'"
echo "all 3 tests passed"
