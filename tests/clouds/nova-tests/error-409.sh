#!/bin/bash
# A server in ERROR: shown with status ERROR and a fault; createImage -> 409 conflictingRequest
# naming the vm_state, and no image appears in Glance.
. "$(dirname "$0")/lib.sh"
b=$(sid broken)
nova GET "/servers/$b"
expect "status" ERROR "$(j .server.status)"
expect "vm_state" error "$(j '.server["OS-EXT-STS:vm_state"]')"
expect_match "fault message" 'Exceeded maximum number of retries' "$(j .server.fault.message)"
glance GET "/v2/images?limit=1000"
before=$(j '.images | length')
nova POST "/servers/$b/action" -H 'Content-Type: application/json' -d "{\"createImage\":{\"name\":\"$NAME_PREFIX\"}}"
expect "createImage on ERROR" 409 "$CODE"
expect "error code" 409 "$(j .conflictingRequest.code)"
expect "message" "Cannot 'createImage' instance $b while it is in vm_state error" "$(j .conflictingRequest.message)"
glance GET "/v2/images?name=$NAME_PREFIX"
expect "images named $NAME_PREFIX" 0 "$(j '.images | length')"
nova POST "/servers/$(sid web1)/action" -H 'Content-Type: application/json' -d '{"createImage":{}}'
expect "createImage without a name" 400 "$CODE"
expect "400 body" 400 "$(j .badRequest.code)"
nova POST "/servers/$(sid web1)/action" -H 'Content-Type: application/json' -d '{"createImage":'
expect "malformed body" 400 "$CODE"
nova POST "/servers/$(sid web1)/action" -H 'Content-Type: application/json' -d '{"noSuchAction":{}}'
expect "unknown action" 400 "$CODE"
exit 0
