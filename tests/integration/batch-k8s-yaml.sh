#!/bin/bash
# examples/batch/k8s/*.yaml are valid Kubernetes objects, offline: each
# against the schema of its kind from the Kubernetes OpenAPI definitions,
# unknown fields refused as a strict API server does (tests/k8s/validate.js,
# whose npm packages are installed, pinned by tests/k8s/package-lock.json,
# into build/k8s-validate). The validator is seen to refuse broken copies
# (a misspelt field, a wrong type, a missing required field), and the Job
# to agree with the Secret and with itself: an Indexed Job whose SHARDS is
# its completions, whose pods get JOB_COMPLETION_INDEX, mount /dev/fuse
# with the privilege to mount, and find clouds.yaml and cloudfs.yaml where
# the Secret puts them. The Dockerfile copies files that exist.
. "$(dirname "$0")/lib.sh"
K8S=$TOP/examples/batch/k8s
[ -f "$K8S/job.yaml" ] && [ -f "$K8S/secret.yaml" ] || fail "no $K8S/job.yaml and secret.yaml"
command -v node >/dev/null && command -v npm >/dev/null || skip "node and npm missing"

dir=$TOP/build/k8s-validate
if ! cmp -s "$TOP/tests/k8s/package-lock.json" "$dir/package-lock.json" || [ ! -d "$dir/node_modules" ]; then
    npm ping >/dev/null 2>&1 || skip "the npm registry does not answer"
    rm -rf "$dir"
    mkdir -p "$dir"
    cp "$TOP/tests/k8s/package.json" "$TOP/tests/k8s/package-lock.json" "$dir/"
    (cd "$dir" && timeout 300 npm ci --ignore-scripts --no-audit --no-fund) >"$WORK/npm.log" 2>&1 ||
        { cat "$WORK/npm.log"; rm -f "$dir/package-lock.json"; fail "npm ci of tests/k8s failed"; }
fi
export NODE_PATH=$dir/node_modules
validate() { node "$TOP/tests/k8s/validate.js" "$@"; }

validate "$K8S"/*.yaml || fail "examples/batch/k8s does not validate"

# broken NAME SED FILE: a copy of FILE changed by SED must be refused.
broken() {
    sed "$2" "$K8S/$3" >"$WORK/$1.yaml"
    cmp -s "$WORK/$1.yaml" "$K8S/$3" && fail "$1: the change '$2' changed nothing"
    validate "$WORK/$1.yaml" >"$WORK/$1.out" && fail "$1: the validator accepts it"
    echo "refused, as it should: $1: $(head -1 "$WORK/$1.out")"
}
broken misspelt 's/completionMode:/completionsMode:/' job.yaml
broken wrong-type 's/completions: [0-9]*/completions: eight/' job.yaml
broken no-containers 's/containers:/initContainers:/' job.yaml
broken secret-field 's/stringData:/stringdata:/' secret.yaml
broken bad-yaml 's/^spec:/spec: [/' job.yaml

node - "$K8S/job.yaml" "$K8S/secret.yaml" <<'EOF' || fail "the Job and the Secret do not agree"
const fs = require("fs"), YAML = require("yaml");
const read = (f) => YAML.parse(fs.readFileSync(f, "utf8"), { version: "1.1" });
const [job, secret] = process.argv.slice(2).map(read);
const spec = job.spec, pod = spec.template.spec, c = pod.containers[0];
const env = Object.fromEntries((c.env || []).map((e) => [e.name, e]));
const problems = [];
const want = (ok, what) => ok || problems.push(what);
want(spec.completionMode === "Indexed", "completionMode is not Indexed");
want(Number.isInteger(spec.completions) && spec.completions > 0, "no completions");
want(env.SHARDS && env.SHARDS.value === String(spec.completions), "SHARDS is not completions");
want(env.JOB_COMPLETION_INDEX && /job-completion-index/.test(JSON.stringify(env.JOB_COMPLETION_INDEX)),
    "JOB_COMPLETION_INDEX does not come from the completion index");
want(pod.restartPolicy === "Never" || pod.restartPolicy === "OnFailure", "restartPolicy");
want(c.securityContext && (c.securityContext.privileged === true ||
    ((c.securityContext.capabilities || {}).add || []).includes("SYS_ADMIN")), "no privilege to mount");
const vols = Object.fromEntries(pod.volumes.map((v) => [v.name, v]));
const mounts = c.volumeMounts || [];
want(mounts.some((m) => m.mountPath === "/dev/fuse" && vols[m.name] && vols[m.name].hostPath &&
    vols[m.name].hostPath.path === "/dev/fuse") || c.securityContext.privileged === true, "no /dev/fuse");
const sv = pod.volumes.find((v) => v.secret && v.secret.secretName === secret.metadata.name);
want(sv, `no volume of the Secret ${secret.metadata.name}`);
const sm = sv && mounts.find((m) => m.name === sv.name);
want(sm, "the Secret's volume is not mounted");
for (const [name, key] of [["OS_CLIENT_CONFIG_FILE", "clouds.yaml"], ["CLOUDFS_CONFIG", "cloudfs.yaml"]]) {
    want(sm && env[name] && env[name].value === `${sm.mountPath}/${key}`, `${name} is not the Secret's ${key}`);
    want(secret.stringData && typeof secret.stringData[key] === "string", `the Secret has no ${key}`);
    if (secret.stringData && secret.stringData[key])
        want(YAML.parse(secret.stringData[key]).clouds, `the Secret's ${key} has no clouds`);
}
for (const p of problems) console.log(p);
process.exit(problems.length ? 1 : 0);
EOF

# The Dockerfile copies files of this tree (its context is the top).
grep -E '^COPY [^-]' "$K8S/Dockerfile" | while read -r _ args; do
    set -- $args
    while [ $# -gt 1 ]; do
        [ -e "$TOP/$1" ] || { echo "the Dockerfile copies $1, which is not there"; exit 1; }
        shift
    done
done || fail "the Dockerfile copies missing files"
exit 0
