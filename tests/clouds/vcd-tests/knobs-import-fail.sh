#!/bin/bash
# §10.5 import_fail=format|hwversion|quota: a valid streamOptimized upload fails in the
# import (state F) after every byte was accepted; each reason gives a task Error.
. "$(dirname "$0")/lib.sh"
login
make_disk "$W/d.vmdk" 2
size=$(stat -c %s "$W/d.vmdk")
make_ovf "$W/d.ovf" d.vmdk "$size" "$CAPACITY"
for why in format hwversion quota; do
    knobs "{\"import_fail\":\"$why\"}"
    upload "$NAME_PREFIX-if$why" "$W/d.vmdk" "$W/d.ovf" d.vmdk
    expect_failed "import_fail=$why"
    expect "import_fail=$why: bytes stored" "$size" "$(xp "//_:File[@name='d.vmdk']/@bytesTransferred" "$W/tpl.xml")"
done
exit 0
