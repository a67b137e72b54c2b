#!/bin/bash
# Every mount option of `cloudfs --help` is in the man page and the other way
# round; --version answers; a mount point is required.
. "$(dirname "$0")/lib.sh"

help_opts=$("$CLOUDFS" --help 2>/dev/null | sed -n '/^cloudfs options:/,/^$/p' |
    grep -o -- '-o [a-z_]*' | awk '{ print $2 }' | sort -u)
[ -n "$help_opts" ] || fail "--help lists no cloudfs option"
man_opts=$(sed -n 's/^\.BI \\-o\\ \([a-z_]*\).*/\1/p' "$TOP/fs/cloudfs.1" | sort -u)
[ -n "$man_opts" ] || fail "the man page lists no option"
[ "$help_opts" = "$man_opts" ] ||
    fail "--help and fs/cloudfs.1 differ: $(diff <(echo "$help_opts") <(echo "$man_opts") | grep '^[<>]' | tr '\n' ' ')"
for o in $help_opts; do
    grep -q "^| \`$o[=\`]" "$TOP/README.md" || fail "README's option table lacks $o"
done
"$CLOUDFS" --version | grep -q '^cloudfs [0-9]' || fail "--version"
"$CLOUDFS" >/dev/null 2>&1 && fail "cloudfs without a mount point should fail"
exit 0
