// Validates Kubernetes manifests offline, as the API server would judge
// their shape: node validate.js FILE... (exit 0: every document valid).
// - YAML as Kubernetes reads it (sigs.k8s.io/yaml is go-yaml: YAML 1.1,
//   so 0400 is octal), duplicate keys refused;
// - each document against the schema of its apiVersion and kind from the
//   Kubernetes OpenAPI definitions, compiled into kubernetes-models'
//   validators (types, required fields, enums, formats);
// - unknown fields, which the OpenAPI schemas allow but a strict API server
//   (fieldValidation=Strict) refuses: each document is type-checked by tsc
//   against the TypeScript interface generated from the same definitions,
//   whose excess-property check names any field the API does not have.
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const { execFileSync } = require("child_process");
const YAML = require("yaml");

const modelsDir = path.dirname(require.resolve("kubernetes-models/package.json"));
const tsc = require.resolve("typescript/bin/tsc");
let bad = 0;
const say = (where, msg) => {
    console.log(`${where}: ${msg}`);
    bad++;
};

// The kubernetes-models module of an apiVersion and kind: "batch/v1" Job is
// kubernetes-models/batch/v1/Job, "v1" Secret kubernetes-models/v1/Secret.
function modelPath(apiVersion, kind) {
    if (typeof apiVersion !== "string" || typeof kind !== "string" || !/^[A-Za-z0-9]+$/.test(kind))
        return null;
    const parts = apiVersion.split("/");
    if (parts.length > 2 || parts.some((p) => !/^[a-z0-9.-]+$/.test(p)))
        return null;
    const rel = path.join(...parts, kind);
    return fs.existsSync(path.join(modelsDir, rel + ".js")) ? "kubernetes-models/" + rel : null;
}

const checks = []; // [where, module, kind, data] for tsc
for (const file of process.argv.slice(2)) {
    const docs = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"), { version: "1.1", uniqueKeys: true });
    docs.forEach((doc, i) => {
        const where = docs.length > 1 ? `${file} (document ${i + 1})` : file;
        for (const e of [...doc.errors, ...doc.warnings])
            say(where, `YAML: ${e.message}`);
        if (doc.errors.length)
            return;
        const data = doc.toJS();
        if (data === null || data === undefined)
            return say(where, "an empty document");
        const mod = modelPath(data.apiVersion, data.kind);
        if (!mod)
            return say(where, `no Kubernetes schema for apiVersion ${data.apiVersion}, kind ${data.kind}`);
        const Model = require(mod)[data.kind];
        try {
            new Model(data).validate();
        } catch (e) {
            return say(where, `schema of ${data.apiVersion} ${data.kind}: ${e.message}`);
        }
        checks.push([where, mod, data.kind, data]);
    });
}

if (checks.length) {
    // The .ts files go beside node_modules, where tsc finds kubernetes-models.
    const dir = fs.mkdtempSync(path.join(path.dirname(path.dirname(modelsDir)), ".tscheck-"));
    const names = checks.map(([, mod, kind, data], i) => {
        const name = path.join(dir, `doc${i}.ts`);
        fs.writeFileSync(name, `import type { I${kind} } from "${mod}";\n` +
            `export const doc: I${kind} = ${JSON.stringify(data, null, 2)};\n`);
        return name;
    });
    let out = "";
    try {
        execFileSync(process.execPath, [tsc, "--noEmit", "--strict", "--skipLibCheck", "--lib", "es2020",
            "--module", "commonjs", "--moduleResolution", "node", ...names],
            { cwd: dir, encoding: "utf8" });
    } catch (e) {
        out = (e.stdout || "") + (e.stderr || "") || String(e);
    }
    for (const line of out.split("\n").filter((l) => l.trim())) {
        const m = /doc(\d+)\.ts\((\d+),\d+\): (.*)/.exec(line);
        say(m ? checks[+m[1]][0] : "tsc", m ? `line ${m[2]} of its JSON: ${m[3]}` : line);
    }
    fs.rmSync(dir, { recursive: true, force: true });
}
if (!bad)
    console.log(`${checks.length} Kubernetes documents valid`);
process.exit(bad ? 1 : 0);
