#!/bin/bash
# §10.3/§10.6 in state A, for as long as the descriptor is not processed, the template
# lists exactly one File with exactly one Link (govcd takes File[0].Link[0]) — also
# right after the descriptor PUT while descriptor_delay runs; never a second File early.
. "$(dirname "$0")/lib.sh"
knobs '{"descriptor_delay":1.0}'
login
make_disk "$W/d.vmdk" 2
make_ovf "$W/d.ovf" d.vmdk "$(stat -c %s "$W/d.vmdk")" "$CAPACITY"
create "$NAME_PREFIX-one"
for i in 1 2 3; do
    tpl
    expect "A (GET $i): Files/File" 1 "$(xn '//_:Files/_:File' "$W/tpl.xml")"
    expect "A (GET $i): links in the File" 1 "$(xn '//_:Files/_:File/_:Link' "$W/tpl.xml")"
done
put_descriptor "$W/d.ovf"
tpl
expect "B (descriptor being processed): Files/File" 1 "$(xn '//_:Files/_:File' "$W/tpl.xml")"
expect "B: ovfDescriptorUploaded" false "$(xp /_:VAppTemplate/@ovfDescriptorUploaded "$W/tpl.xml")"
sleep 0.5
tpl
expect "B (0.5 s later, delay 1 s): Files/File" 1 "$(xn '//_:Files/_:File' "$W/tpl.xml")"
wait_tpl "/_:VAppTemplate[@ovfDescriptorUploaded='true']" 5
expect "C: Files/File" 2 "$(xn '//_:Files/_:File' "$W/tpl.xml")"
exit 0
