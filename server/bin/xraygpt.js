#!/usr/bin/env node
// The `xraygpt` command: the built CLI (server/dist/cli.js, made by `npm ci` / `npm run build`).
import "../dist/cli.js";
