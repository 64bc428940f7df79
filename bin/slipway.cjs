#!/usr/bin/env node
// `npx slipway …`: the CLI in cli/, run from its TypeScript source through tsx (a dev dependency of this repository).
require('tsx/cjs');
require('../cli/main.ts').main();
