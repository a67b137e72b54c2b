#!/bin/bash
# An unknown server id: GET and createImage answer 404 itemNotFound with Nova's message.
. "$(dirname "$0")/lib.sh"
u=4f1c1f0e-8a4b-4b8e-9d1e-0123456789ab
nova GET "/servers/$u"
expect "GET unknown" 404 "$CODE"
expect "message" "Instance $u could not be found." "$(j .itemNotFound.message)"
expect "code" 404 "$(j .itemNotFound.code)"
nova POST "/servers/$u/action" -H 'Content-Type: application/json' -d '{"createImage":{"name":"x"}}'
expect "createImage unknown" 404 "$CODE"
expect "createImage unknown: message" "Instance $u could not be found." "$(j .itemNotFound.message)"
nova GET /no-such-collection
expect "unknown collection" 404 "$CODE"
exit 0
