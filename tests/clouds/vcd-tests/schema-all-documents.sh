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
    for t in catalog catalogItem vAppTemplate task; do query $t "format=$f"; done
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

shopt -s nullglob
files=("$CLOUDS_VCD_XML"/*.xml)
[ ${#files[@]} -gt 0 ] || fail "no documents recorded in $CLOUDS_VCD_XML"
vc=() ovf=() roots=()
for f in "${files[@]}"; do
    r=$(xmllint --xpath 'local-name(/*)' "$f" 2>/dev/null) || fail "recorded document $f is not well-formed XML"
    roots+=("$r")
    case $r in
    Session | SupportedVersions) ;;
    Envelope) ovf+=("$f") ;;
    *) vc+=("$f") ;;
    esac
done
for r in OrgList Org QueryList QueryResultRecords QueryResultReferences Catalog CatalogItem VAppTemplate Task Error Envelope; do
    printf '%s\n' "${roots[@]}" | grep -qx "$r" || fail "no recorded $r document among ${#files[@]} (expected one from this test's flows)"
done
bad=0
# xmllint takes many files at once; validate in batches and name the failures
validate() { # KIND FILE...
    local kind=$1
    shift
    local out
    out=$(printf '%s\0' "$@" | xargs -0 -n 200 "$SCHEMAS/validate" "$kind" 2>&1 | grep -v ' validates$')
    if [ -n "$out" ]; then
        echo "$out" | head -20
        bad=$(echo "$out" | grep -c 'fails to validate')
    fi
}
validate vcloud "${vc[@]}"
bv=$bad
bad=0
[ ${#ovf[@]} -eq 0 ] || validate ovf "${ovf[@]}"
[ "$bv" = 0 ] && [ "$bad" = 0 ] || fail "schema: expected every document valid, got $bv of ${#vc[@]} vCloud documents and $bad of ${#ovf[@]} OVF descriptors invalid (details above)"
echo "${#vc[@]} vCloud documents and ${#ovf[@]} OVF descriptors valid"
exit 0
