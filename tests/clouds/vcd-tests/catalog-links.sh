#!/bin/bash
# §3.3 Catalog "migrated": Link rel="add" type=…uploadVAppTemplateParams+xml to
# …/action/upload (and the media link with the same href); children in schema order
# Link*, Description?, Tasks?, Owner?, CatalogItems?, IsPublished?, DateCreated?,
# VersionNumber?; catalog items listed by href with the catalogItem type; the
# catalog item's Entity leads to a VAppTemplate.
. "$(dirname "$0")/lib.sh"
login
catalog_href migrated
api GET "$CAT"
expect "GET catalog migrated" 200 "$CODE"
save "$W/cat.xml"
expect "root" Catalog "$(xp 'local-name(/*)')"
expect_match "Content-Type" '^application/vnd\.vmware\.vcloud\.catalog\+xml; ?version=' "$(hdr Content-Type)"
expect_match "id" '^urn:vcloud:catalog:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' "$(xp /_:Catalog/@id)"
up=$(xp "/_:Catalog/_:Link[@rel='add' and @type='application/vnd.vmware.vcloud.uploadVAppTemplateParams+xml']/@href")
expect "upload link" "$CAT/action/upload" "$up"
expect "media add link with the same href" 1 "$(xn "/_:Catalog/_:Link[@rel='add' and @type='application/vnd.vmware.vcloud.media+xml' and @href='$up']")"
in_order "$W/cat.xml" Link Description Tasks Owner CatalogItems IsPublished DateCreated VersionNumber || fail "Catalog children out of schema order: $(children "$W/cat.xml" | uniq | tr '\n' ' ')"

catalog_href golden
api GET "$CAT"
save "$W/golden.xml"
expect "items listed in golden" 3 "$(xn '//_:CatalogItems/_:CatalogItem')"
expect "item references with the catalogItem type" 3 "$(xn "//_:CatalogItems/_:CatalogItem[@type='application/vnd.vmware.vcloud.catalogItem+xml']")"
item=$(xp '(//_:CatalogItems/_:CatalogItem)[1]/@href' "$W/golden.xml")
expect_match "catalog item href" "^$CLOUDS_VCD_URL/api/catalogItem/[0-9a-f-]{36}\$" "$item"
api GET "$item"
expect "GET catalog item" 200 "$CODE"
save "$W/item.xml"
in_order "$W/item.xml" Link Description Tasks Entity Property DateCreated VersionNumber || fail "CatalogItem children out of schema order"
expect "up link to the catalog" 1 "$(xn "/_:CatalogItem/_:Link[@rel='up' and @href='$CAT']")"
ent=$(xp '/_:CatalogItem/_:Entity/@href' "$W/item.xml")
expect_match "Entity href" "^$CLOUDS_VCD_URL/api/vAppTemplate/vappTemplate-[0-9a-f-]{36}\$" "$ent"
expect "Entity type" application/vnd.vmware.vcloud.vAppTemplate+xml "$(xp '/_:CatalogItem/_:Entity/@type' "$W/item.xml")"
api GET "$ent"
expect "GET the entity" 200 "$CODE"
save "$W/t.xml"
expect "golden template status" 8 "$(xp /_:VAppTemplate/@status)"
in_order "$W/t.xml" Link Description Tasks Files Owner Children LeaseSettingsSection CustomizationSection VAppScopedLocalId DefaultStorageProfile DateCreated || fail "VAppTemplate children out of schema order: $(children "$W/t.xml" | uniq | tr '\n' ' ')"
for rel in enable disable ovf remove; do
    [ "$(xn "/_:VAppTemplate/_:Link[@rel='$rel']")" -ge 1 ] || fail "golden template: no Link rel=$rel"
done
expect "download links before enableDownload" 0 "$(xn "/_:VAppTemplate/_:Link[starts-with(@rel,'download:')]")"
expect "Children/Vm of a ready template" 1 "$(xn '/_:VAppTemplate/_:Children/_:Vm' | sed 's/^[1-9][0-9]*$/1/')"
exit 0
