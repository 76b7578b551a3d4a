#!/usr/bin/env node
'use strict';
// Entry point: the CLI lives in ts/cli (compiled to dist/ by `npm install`).
const { main } = require('../dist/cli/main.js');
main(process.argv).then(
  (status) => {
    // Let stdout/stderr drain before leaving with the program's status.
    process.exitCode = status;
    setImmediate(() => process.exit(status));
  },
  (e) => {
    process.stderr.write(`tsvisor: ${e && e.stack ? e.stack : e}\n`);
    process.exit(125);
  },
);
