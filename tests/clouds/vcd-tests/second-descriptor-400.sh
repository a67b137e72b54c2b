#!/bin/bash
# §10.4 the descriptor PUT takes any Content-Type (text/xml, application/ovf+xml, none),
# answers 200 with an empty body; a second descriptor PUT once the descriptor is
# processed (state C) → 400.
. "$(dirname "$0")/lib.sh"
login
make_disk "$W/d.vmdk" 2
make_ovf "$W/d.ovf" d.vmdk "$(stat -c %s "$W/d.vmdk")" "$CAPACITY"
for ct in 'application/ovf+xml' ''; do
    create "$NAME_PREFIX-ct${ct%%/*}"
    tpl
    tput "$(file_link descriptor.ovf)" "$W/d.ovf" -H "Content-Type: $ct"
    expect "descriptor PUT with Content-Type '$ct'" 200 "$CODE"
    wait_tpl "/_:VAppTemplate[@ovfDescriptorUploaded='true' or @status='-1']" 5
    expect "descriptor with Content-Type '$ct' processed: status" 0 "$(xp /_:VAppTemplate/@status "$W/tpl.xml")"
done
tput "$(file_link descriptor.ovf)" "$W/d.ovf" -H 'Content-Type: text/xml'
expect "second descriptor PUT in state C" 400 "$CODE"
tpl
expect "Files after the refused second descriptor" 2 "$(xn '//_:Files/_:File' "$W/tpl.xml")"
exit 0
