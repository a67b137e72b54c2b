#!/bin/bash
# §3.3/§3.5 a golden template's metadata: the template links …/metadata (rel="down",
# type …metadata+xml); GET gives a Metadata document with MetadataEntry children
# (Key, TypedValue) in the vCloud namespace.
. "$(dirname "$0")/lib.sh"
login
query vAppTemplate "format=records&filter=catalogName==golden&sortAsc=name"
TPL=$(xp '(//_:VAppTemplateRecord)[1]/@href')
tpl
m=$(xp "/_:VAppTemplate/_:Link[@rel='down' and @type='application/vnd.vmware.vcloud.metadata+xml']/@href" "$W/tpl.xml")
expect "metadata link" "$TPL/metadata" "$m"
api GET "$m"
expect "GET metadata" 200 "$CODE"
expect "root" Metadata "$(xp 'local-name(/*)')"
expect "namespace" http://www.vmware.com/vcloud/v1.5 "$(xp 'namespace-uri(/*)')"
expect_match "Content-Type" '^application/vnd\.vmware\.vcloud\.metadata\+xml; ?version=' "$(hdr Content-Type)"
[ "$(xn '/_:Metadata/_:MetadataEntry')" -ge 1 ] || fail "golden template metadata: expected >= 1 MetadataEntry, got 0"
[ -n "$(xp '(/_:Metadata/_:MetadataEntry)[1]/_:Key')" ] || fail "MetadataEntry without Key"
expect "TypedValue of the first entry" 1 "$(xn '(/_:Metadata/_:MetadataEntry)[1]/_:TypedValue')"
save "$W/md.xml"
"$SCHEMAS/validate" vcloud "$W/md.xml" 2>"$W/val" || fail "Metadata not schema-valid: $(head -3 "$W/val")"
exit 0
