// `terraform fmt -check` without a terraform binary: HCL's own formatter (hclwrite.Format, which
// `terraform fmt` applies), compiled to WebAssembly by the @cdktf/hcl-tools package.
// Usage: node tools/hcl_fmt.js FILE.tf ...  ->  prints a JSON list of the files that would change.
"use strict";
const fs = require("fs");
const { format } = require("@cdktf/hcl-tools");

async function main(files) {
  const changed = [];
  for (const file of files) {
    const text = fs.readFileSync(file, "utf8");
    if ((await format(text)) !== text) changed.push(file);
  }
  process.stdout.write(JSON.stringify(changed) + "\n");
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err) => { process.stderr.write(String(err && err.stack || err) + "\n"); process.exit(2); },
);
