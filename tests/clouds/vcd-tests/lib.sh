# Sourced by every test of the vCD emulator's own suite: one script per rule of
# /work/shared/ref/vcd-api.md §10.2-§10.5, run by ./run DIR (or tests/run.sh)
# against a running `tests/clouds/up DIR`. A test exits 0 (pass), 1 (fail, with
# one line "FAIL: what: expected X, got Y") or 77 (skip).
#
# It gets CLOUDS_DIR, resets the emulator's knobs (again at exit, with the
# templates it made deleted), and speeds the emulator's delays up.
set -u
VT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${CLOUDS_DIR:?set CLOUDS_DIR to the DIR of a running tests/clouds/up DIR}"
# shellcheck disable=SC1091
. "$CLOUDS_DIR/env"
[ -n "${CLOUDS_VCD_URL:-}" ] || { echo "SKIP: no vCD emulator in $CLOUDS_DIR/env"; exit 77; }
SCHEMAS=${VCD_SCHEMAS:-/work/shared/schemas}
PY=/usr/bin/python3
W=$(mktemp -d /tmp/vcdt.XXXXXX)
V=${VCD_API:-37.2}          # API version of the /api calls (legacy login allowed up to 37.2)
TOKEN=
CREATED=()                  # catalog-item hrefs this test made, deleted at exit
NAME_PREFIX=vt-$$-$RANDOM   # "vt-": never the emulator author's smoke-test names
FAST='{"descriptor_delay":0.1,"import_delay":0.2,"enable_download_delay":0.1,"cancel_delay":0,"delete_delay":0}'

fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }

# expect WHAT EXPECTED GOT: fails with "WHAT: expected E, got G" unless equal.
expect() { [ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"; }
# expect_match WHAT REGEX GOT
expect_match() { [[ $3 =~ $2 ]] || fail "$1: expected /$2/, got '$3'"; }

ctl() { # ctl METHOD PATH [JSON]: the emulator's control API, body on stdout
    if [ $# -ge 3 ]; then
        curl -sf -X "$1" -H 'Content-Type: application/json' -d "$3" "$CLOUDS_VCD_CONTROL/$2"
    else
        curl -sf -X "$1" "$CLOUDS_VCD_CONTROL/$2"
    fi
}
knobs() { ctl POST knobs "$1" >/dev/null || fail "the control API refused knobs $1"; }
knobs_reset() { ctl DELETE knobs >/dev/null; }
state() { ctl GET state; }
# tstate NAME FIELD: a field of the control API's record of template NAME
tstate() { state | jq -r --arg n "$1" ".templates[] | select(.name == \$n) | .$2"; }

# req METHOD URL [curl args...]: CODE, REASON (of the last status line), CURL_RC;
# body in $W/body, headers in $W/hdr.
req() {
    local m=$1 u=$2
    shift 2
    CODE=$(curl -s -X "$m" --cacert "$CLOUDS_CACERT" -o "$W/body" -D "$W/hdr" -w '%{http_code}' "$@" "$u")
    CURL_RC=$?
    REASON=$(grep -a '^HTTP/' "$W/hdr" | tail -1 | tr -d '\r' | cut -d' ' -f3-)
}
url() { case $1 in http*) echo "$1" ;; *) echo "$CLOUDS_VCD_URL$1" ;; esac; }
# api METHOD PATH|URL [curl args...]: an authenticated /api request at version $V
api() {
    local m=$1 u
    u=$(url "$2")
    shift 2
    req "$m" "$u" -H "Accept: application/*+xml;version=$V" -H "x-vcloud-authorization: $TOKEN" "$@"
}
# tput URL FILE [curl args...]: an authenticated transfer PUT of FILE
tput() {
    local u=$1 f=$2
    shift 2
    req PUT "$u" -H "x-vcloud-authorization: $TOKEN" -H 'Content-Type:' --data-binary "@$f" "$@"
}
# hdr NAME: the value of response header NAME (case-insensitive), empty if absent
hdr() { grep -ai "^$1:" "$W/hdr" | tail -1 | cut -d: -f2- | sed 's/^ *//' | tr -d '\r'; }
body_len() { stat -c %s "$W/body"; }
save() { cp "$W/body" "$1"; }

# xp EXPR [FILE]: an XPath 1.0 value; "_:Name" stands for any-namespace Name
# (documents use a default namespace). FILE defaults to the last body.
xq() { echo "$1" | sed "s/_:\([A-Za-z0-9]*\)/*[local-name()='\1']/g"; }
xp() { xmllint --xpath "string($(xq "$1"))" "${2:-$W/body}" 2>/dev/null; }
xn() { xmllint --xpath "count($(xq "$1"))" "${2:-$W/body}" 2>/dev/null; }
# xl EXPR [FILE]: the values of the attributes EXPR selects, one a line
xl() {
    xmllint --xpath "$(xq "$1")" "${2:-$W/body}" 2>/dev/null | sed -n 's/^ *[^=]*="\(.*\)"$/\1/p' | sed 's/&amp;/\&/g'
}
# children NAME [FILE]: local names of the element children of the root, one a line
children() {
    "$PY" - "${1:-$W/body}" <<'PY'
import sys, xml.etree.ElementTree as ET
for c in ET.parse(sys.argv[1]).getroot():
    print(c.tag.split('}')[-1])
PY
}
# in_order FILE NAME...: the root's children NAMEs appear in this relative order
in_order() {
    local f=$1
    shift
    children "$f" | awk -v want="$*" 'BEGIN { n = split(want, w, " "); for (i = 1; i <= n; i++) rank[w[i]] = i }
        ($1 in rank) { if (rank[$1] < last) { print "element " $1 " after " prev; exit 1 } last = rank[$1]; prev = $1 }'
}

# ---------------------------------------------------------------- sessions

login() { # login [USER PASSWORD]: legacy login at $V, sets TOKEN
    local u=${1:-$CLOUDS_VCD_USER} p=${2:-$CLOUDS_VCD_PASSWORD}
    req POST "$CLOUDS_VCD_URL/api/sessions" -u "$u@$CLOUDS_VCD_ORG:$p" -H "Accept: application/*+xml;version=$V"
    [ "$CODE" = 200 ] || fail "login as $u at $V: expected 200, got $CODE $REASON"
    TOKEN=$(hdr x-vcloud-authorization)
    [ -n "$TOKEN" ] || fail "login as $u: no x-vcloud-authorization header"
}

# query TYPE [QUERY-STRING]: GET /api/query?type=TYPE&... (expects 200)
query() {
    api GET "/api/query?type=$1${2:+&$2}"
    [ "$CODE" = 200 ] || fail "query type=$1 $2: expected 200, got $CODE $REASON"
}
catalog_href() { # catalog_href NAME: sets CAT to the catalog's href
    query catalog "format=records&filter=name==$1"
    CAT=$(xp "//_:CatalogRecord[@name='$1']/@href")
    [ -n "$CAT" ] || fail "catalog $1 not found by the query service"
}

# ---------------------------------------------------------------- upload helpers

# make_disk FILE [MIB] [SUBFORMAT] [TAIL]: a qemu-img-made VMDK (streamOptimized by
# default) of a MIB-MiB disk with data at its start and in its middle, and with TAIL=1
# also in its last 64 KiB (as a GPT disk has); CAPACITY = its size.
make_disk() {
    local f=$1 mib=${2:-8} sub=${3:-streamOptimized} tail=${4:-0}
    local raw=$W/$(basename "$f").raw
    truncate -s "${mib}M" "$raw"
    head -c 300000 /dev/urandom | dd of="$raw" conv=notrunc bs=1 seek=0 status=none 2>/dev/null
    printf 'cloudfs vcd-tests %s\n' "$f" | dd of="$raw" conv=notrunc bs=1 seek=$((mib * 1048576 / 2 + 17)) status=none
    [ "$tail" = 0 ] || head -c 65536 /dev/urandom | dd of="$raw" conv=notrunc bs=4096 seek=$((mib * 256 - 16)) status=none
    if [ "$sub" = default ]; then
        qemu-img convert -q -f raw -O vmdk "$raw" "$f" || fail "qemu-img convert"
    else
        qemu-img convert -q -f raw -O vmdk -o "subformat=$sub" "$raw" "$f" || fail "qemu-img convert"
    fi
    CAPACITY=$((mib * 1048576))
}

# make_ovf OUT HREF SIZE CAPACITY [VMX] [NS]: the OVF of ref/vcd-api.md A.6 for one
# disk; SIZE "" omits ovf:size; NS = the envelope namespace (OVF 1 by default);
# FILEREF (env) overrides the Disk's ovf:fileRef.
make_ovf() {
    local out=$1 href=$2 size=$3 cap=$4 vmx=${5:-13} ns=${6:-http://schemas.dmtf.org/ovf/envelope/1}
    local sz=""
    [ -z "$size" ] || sz=" ovf:size=\"$size\""
    cat >"$out" <<OVF
<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="$ns"
          xmlns:ovf="$ns"
          xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
          xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData"
          xmlns:vmw="http://www.vmware.com/schema/ovf"
          xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <References>
    <File ovf:href="$href" ovf:id="file1"$sz/>
  </References>
  <DiskSection>
    <Info>Virtual disk information</Info>
    <Disk ovf:capacity="$cap" ovf:capacityAllocationUnits="byte" ovf:diskId="vmdisk1" ovf:fileRef="${FILEREF:-file1}"
          ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
  </DiskSection>
  <NetworkSection>
    <Info>The list of logical networks</Info>
    <Network ovf:name="VM Network">
      <Description>The VM Network network</Description>
    </Network>
  </NetworkSection>
  <VirtualSystem ovf:id="vm1">
    <Info>A virtual machine</Info>
    <Name>vm1</Name>
    <OperatingSystemSection ovf:id="101" vmw:osType="otherLinux64Guest">
      <Info>The kind of installed guest operating system</Info>
    </OperatingSystemSection>
    <VirtualHardwareSection>
      <Info>Virtual hardware requirements</Info>
      <System>
        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>
        <vssd:InstanceID>0</vssd:InstanceID>
        <vssd:VirtualSystemIdentifier>vm1</vssd:VirtualSystemIdentifier>
        <vssd:VirtualSystemType>vmx-$vmx</vssd:VirtualSystemType>
      </System>
      <Item>
        <rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits>
        <rasd:Description>Number of Virtual CPUs</rasd:Description>
        <rasd:ElementName>1 virtual CPU(s)</rasd:ElementName>
        <rasd:InstanceID>1</rasd:InstanceID>
        <rasd:ResourceType>3</rasd:ResourceType>
        <rasd:VirtualQuantity>1</rasd:VirtualQuantity>
      </Item>
      <Item>
        <rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits>
        <rasd:Description>Memory Size</rasd:Description>
        <rasd:ElementName>1024MB of memory</rasd:ElementName>
        <rasd:InstanceID>2</rasd:InstanceID>
        <rasd:ResourceType>4</rasd:ResourceType>
        <rasd:VirtualQuantity>1024</rasd:VirtualQuantity>
      </Item>
      <Item>
        <rasd:Address>0</rasd:Address>
        <rasd:Description>SCSI Controller</rasd:Description>
        <rasd:ElementName>SCSI Controller 0</rasd:ElementName>
        <rasd:InstanceID>3</rasd:InstanceID>
        <rasd:ResourceSubType>lsilogic</rasd:ResourceSubType>
        <rasd:ResourceType>6</rasd:ResourceType>
      </Item>
      <Item>
        <rasd:AddressOnParent>0</rasd:AddressOnParent>
        <rasd:ElementName>Hard Disk 1</rasd:ElementName>
        <rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource>
        <rasd:InstanceID>4</rasd:InstanceID>
        <rasd:Parent>3</rasd:Parent>
        <rasd:ResourceType>17</rasd:ResourceType>
      </Item>
      <Item>
        <rasd:AddressOnParent>0</rasd:AddressOnParent>
        <rasd:AutomaticAllocation>true</rasd:AutomaticAllocation>
        <rasd:Connection>VM Network</rasd:Connection>
        <rasd:ElementName>Network adapter 1</rasd:ElementName>
        <rasd:InstanceID>5</rasd:InstanceID>
        <rasd:ResourceSubType>VMXNET3</rasd:ResourceSubType>
        <rasd:ResourceType>10</rasd:ResourceType>
      </Item>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
OVF
}

# params NAME [ATTRS]: an UploadVAppTemplateParams body in $W/params.xml
params() {
    cat >"$W/params.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<UploadVAppTemplateParams xmlns="http://www.vmware.com/vcloud/v1.5" name="$1" manifestRequired="false"${2:+ $2}>
    <Description>made by tests/clouds/vcd-tests</Description>
</UploadVAppTemplateParams>
XML
}

# create NAME [CATALOG] [ATTRS]: POST catalog/action/upload; expects 201 and sets
# ITEM (catalog item href), TPL (template href); remembers ITEM for clean-up.
create() {
    local name=$1
    catalog_href "${2:-migrated}"
    params "$name" "${3:-}"
    api POST "$CAT/action/upload" -H 'Content-Type: application/vnd.vmware.vcloud.uploadVAppTemplateParams+xml' \
        --data-binary "@$W/params.xml"
    [ "$CODE" = 201 ] || fail "upload POST for $name: expected 201, got $CODE $REASON $(head -c 300 "$W/body")"
    ITEM=$(xp "/_:CatalogItem/@href")
    TPL=$(xp "/_:CatalogItem/_:Entity/@href")
    [ -n "$ITEM" ] && [ -n "$TPL" ] || fail "upload POST for $name: CatalogItem without href or Entity"
    CREATED+=("$ITEM")
}

tpl() { # tpl: GET $TPL into $W/tpl.xml (expects 200)
    api GET "$TPL"
    [ "$CODE" = 200 ] || fail "GET template: expected 200, got $CODE $REASON"
    save "$W/tpl.xml"
}
file_link() { xp "//_:Files/_:File[@name='$1']/_:Link[@rel='upload:default']/@href" "$W/tpl.xml"; }

# wait_tpl EXPR [SECONDS]: polls the template until the XPath EXPR is true
wait_tpl() {
    local e=$1 n=$((${2:-10} * 10)) i
    for ((i = 0; i < n; i++)); do
        tpl
        [ "$(xmllint --xpath "boolean($(xq "$e"))" "$W/tpl.xml" 2>/dev/null)" = true ] && return 0
        sleep 0.1
    done
    fail "template never reached $e; last: status=$(xp /_:VAppTemplate/@status "$W/tpl.xml") task=$(xp '//_:Tasks/_:Task/@status' "$W/tpl.xml")"
}

# wait_task HREF [SECONDS]: polls a task until it leaves queued/preRunning/running;
# TASK_STATUS, task body in $W/task.xml
wait_task() {
    local h=$1 n=$((${2:-10} * 10)) i
    for ((i = 0; i < n; i++)); do
        api GET "$h"
        [ "$CODE" = 200 ] || fail "GET task $h: expected 200, got $CODE $REASON"
        save "$W/task.xml"
        TASK_STATUS=$(xp /_:Task/@status "$W/task.xml")
        case $TASK_STATUS in queued | preRunning | running) sleep 0.1 ;; *) return 0 ;; esac
    done
    fail "task $h still $TASK_STATUS after ${2:-10} s"
}

put_descriptor() { # put_descriptor OVF [curl args]: PUT to the descriptor link (expects 200)
    local f=$1 u
    shift
    u=$(file_link descriptor.ovf)
    [ -n "$u" ] || fail "no upload:default link for descriptor.ovf"
    tput "$u" "$f" -H 'Content-Type: text/xml' "$@"
    [ "$CODE" = 200 ] || fail "descriptor PUT: expected 200, got $CODE $REASON"
}

# upload NAME DISK OVF HREF: the whole flow up to the end of the task;
# sets ITEM TPL TASK TASK_STATUS and $W/tpl.xml (the template afterwards).
upload() {
    local name=$1 disk=$2 ovf=$3 href=$4 u
    create "$name"
    tpl
    TASK=$(xp '//_:Tasks/_:Task/@href' "$W/tpl.xml")
    put_descriptor "$ovf"
    wait_tpl "/_:VAppTemplate[@ovfDescriptorUploaded='true' or @status='-1']"
    [ "$(xp /_:VAppTemplate/@status "$W/tpl.xml")" != -1 ] || fail "descriptor of $name rejected: $(xp '//_:Task/_:Error/@message' "$W/tpl.xml")"
    u=$(file_link "$href")
    [ -n "$u" ] || fail "no upload link for $href after the descriptor"
    tput "$u" "$disk"
    [ "$CODE" = 200 ] || fail "disk PUT: expected 200, got $CODE $REASON"
    wait_task "$TASK"
    tpl
}

# ---------------------------------------------------------------- clean-up

cleanup() {
    local it t i tk
    knobs_reset
    if [ ${#CREATED[@]} -gt 0 ]; then
        V=37.2
        req POST "$CLOUDS_VCD_URL/api/sessions" -u "$CLOUDS_VCD_USER@$CLOUDS_VCD_ORG:$CLOUDS_VCD_PASSWORD" \
            -H "Accept: application/*+xml;version=$V"
        TOKEN=$(hdr x-vcloud-authorization)
        for it in "${CREATED[@]}"; do
            api GET "$it"
            [ "$CODE" = 200 ] || continue
            t=$(xp '//_:Entity/@href')
            api GET "$t"
            tk=$(xp '//_:Tasks/_:Task[@status="running" or @status="queued"]/@href')
            [ -z "$tk" ] || api POST "$tk/action/cancel"
            for i in $(seq 30); do
                api DELETE "$it"
                case $CODE in 204 | 202 | 403 | 404) break ;; esac
                sleep 0.1
            done
        done
    fi
    knobs_reset
    rm -rf "$W"
}
trap cleanup EXIT

knobs_reset || fail "the emulator's control API does not answer at $CLOUDS_VCD_CONTROL"
knobs "$FAST"

# expect_failed WHAT: the template (in $W/tpl.xml, task in $W/task.xml) is in state F:
# status -1, task error with an Error child, query status FAILED_CREATION
expect_failed() {
    local name
    name=$(xp /_:VAppTemplate/@name "$W/tpl.xml")
    expect "$1: template status" -1 "$(xp /_:VAppTemplate/@status "$W/tpl.xml")"
    expect "$1: task status" error "$TASK_STATUS"
    expect "$1: Error in the task" 1 "$(xn '/_:Task/_:Error' "$W/task.xml")"
    expect_match "$1: Error majorErrorCode" '^[45][0-9][0-9]$' "$(xp '/_:Task/_:Error/@majorErrorCode' "$W/task.xml")"
    query vAppTemplate "format=records&filter=name==$name"
    expect "$1: query status" FAILED_CREATION "$(xp //_:VAppTemplateRecord/@status)"
}

# enable_download: POST enableDownload on $TPL (expects 202 + Task + Location), waits
# for the task, re-reads the template; DL = its download:default href.
enable_download() {
    local t
    api POST "$TPL/action/enableDownload"
    expect "POST enableDownload" 202 "$CODE"
    expect "enableDownload answer" Task "$(xp 'local-name(/*)')"
    t=$(xp /_:Task/@href)
    expect "Location of the enableDownload 202" "$t" "$(hdr Location)"
    wait_task "$t" 10
    expect "enableDownload task" success "$TASK_STATUS"
    tpl
    DL=$(xp "/_:VAppTemplate/_:Link[@rel='download:default']/@href" "$W/tpl.xml")
    [ -n "$DL" ] || fail "no download:default link after enableDownload"
}
# tget URL OUT: an authenticated transfer GET into OUT (expects 200)
tget() {
    curl -s --cacert "$CLOUDS_CACERT" -H "x-vcloud-authorization: $TOKEN" -D "$W/hdr" -o "$2" -w '%{http_code}' "$1" >"$W/code"
    CODE=$(cat "$W/code")
    [ "$CODE" = 200 ] || fail "GET $1: expected 200, got $CODE"
}
