#!/bin/bash
# DESIGN §8 / §12.2: every XML document the emulator sent (recorded in $CLOUDS_VCD_XML
# as NNNNNN-<root>.xml) validates against the published schemas — vCloud documents
# with `validate vcloud`, OVF descriptors with `validate ovf` — except Session roots
# (session.xsd wants Location/@name that real servers omit). Runs last (./run orders
# it so) and first makes its own flows so that every kind of document is present:
# SupportedVersions is not in vcloud.xsd and is checked for well-formedness only.
. "$(dirname "$0")/lib.sh"
[ -x "$SCHEMAS/validate" ] || skip "no schema validator at $SCHEMAS/validate"
[ -d "${CLOUDS_VCD_XML:-}" ] || fail "CLOUDS_VCD_XML ($CLOUDS_VCD_XML) is not a directory"
# own flows: login, lists, queries of each format, an error, an upload to the end, a
# failed upload, a download-enabled template and its descriptor, a task, a delete task
login
api GET /api/org/
api GET "$(xp '/_:OrgList/_:Org/@href')"
api GET /api/query
for f in records references idrecords; do
    for t in catalog catalogItem vAppTemplate task orgVdc; do query $t "format=$f"; done
done
api GET /api/catalog/00000000-0000-4000-8000-000000000000
make_disk "$W/d.vmdk" 2
make_ovf "$W/d.ovf" d.vmdk "$(stat -c %s "$W/d.vmdk")" "$CAPACITY"
"$SCHEMAS/validate" ovf "$W/d.ovf" || fail "the test's own OVF is not valid OVF 1"
params "$NAME_PREFIX-schema"
"$SCHEMAS/validate" vcloud "$W/params.xml" || fail "the test's own UploadVAppTemplateParams is not valid"
upload "$NAME_PREFIX-schema" "$W/d.vmdk" "$W/d.ovf" d.vmdk
api GET "$ITEM"
catalog_href migrated
api GET "$CAT"
enable_download
tget "$DL" "$W/dl.ovf"
api GET "$TPL/ovf"
head -c 1000 /dev/urandom >"$W/r.vmdk"
make_ovf "$W/r.ovf" r.vmdk 1000 8388608
upload "$NAME_PREFIX-schemaf" "$W/r.vmdk" "$W/r.ovf" r.vmdk
api DELETE "$TPL"
[ "$CODE" = 202 ] && wait_task "$(xp /_:Task/@href)" 5

"$SCHEMAS/validate" ovf "$W/dl.ovf" 2>"$W/val" || fail "downloaded descriptor not valid OVF 1: $(head -2 "$W/val")"

# every recorded document: its root, then a batch validation per kind
problems=()
"$PY" - "$CLOUDS_VCD_XML" >"$W/roots" <<'PY2' || fail "recorded documents in $CLOUDS_VCD_XML are not all well-formed XML"
import os, sys, xml.etree.ElementTree as ET
d, bad = sys.argv[1], 0
for n in sorted(os.listdir(d)):
    if not n.endswith(".xml"):
        continue
    try:
        r = ET.parse(os.path.join(d, n)).getroot().tag.split("}")[-1]
    except ET.ParseError as e:
        print("NOT-XML", os.path.join(d, n), file=sys.stderr)
        bad += 1
        continue
    print(r, os.path.join(d, n))
sys.exit(1 if bad else 0)
PY2
total=$(wc -l <"$W/roots")
[ "$total" -gt 0 ] || fail "no documents recorded in $CLOUDS_VCD_XML"
for r in OrgList Org QueryList QueryResultRecords Catalog CatalogItem VAppTemplate Task Error Envelope; do
    grep -q "^$r " "$W/roots" || problems+=("no recorded $r document among $total (this test's flows made the emulator send one)")
done
# file names are NNNNNN-<root>.xml (the contract)
misnamed=$(awk '{ n = $2; sub(/.*\/[0-9]+-/, "", n); sub(/\.xml$/, "", n); if (n != $1) c++ } END { print c + 0 }' "$W/roots")
[ "$misnamed" = 0 ] || problems+=("$misnamed of $total recorded files not named NNNNNN-<root>.xml (e.g. $(awk '{ n = $2; sub(/.*\/[0-9]+-/, "", n); sub(/\.xml$/, "", n); if (n != $1) { print $2 " holds " $1; exit } }' "$W/roots"))")
awk '$1 != "Session" && $1 != "SupportedVersions" && $1 != "Envelope" { print $2 }' "$W/roots" >"$W/vc"
awk '$1 == "Envelope" { print $2 }' "$W/roots" >"$W/ovf"
check() { # KIND LIST: validates the files of LIST, records failures
    [ -s "$2" ] || return 0
    xargs -n 200 "$SCHEMAS/validate" "$1" <"$2" >"$W/$1.out" 2>&1
    local n
    n=$(grep -c 'fails to validate' "$W/$1.out")
    if [ "$n" != 0 ]; then
        grep -v -e ' validates$' -e 'fails to validate' "$W/$1.out" | sed 's/^[^:]*:[0-9]*: //' | sort | uniq -c | sort -rn | head -5
        problems+=("$n of $(wc -l <"$2") recorded $1 documents invalid: $(grep -v -e ' validates$' -e 'fails to validate' "$W/$1.out" | head -1 | sed 's/^[^:]*\///')")
    fi
}
check vcloud "$W/vc"
check ovf "$W/ovf"
echo "$total recorded documents: $(awk '{ print $1 }' "$W/roots" | sort | uniq -c | tr -s ' ' | tr '\n' ',')"
[ ${#problems[@]} = 0 ] || fail "schema: expected every recorded document valid and named by its root, got: $(printf '%s; ' "${problems[@]}")"
exit 0
