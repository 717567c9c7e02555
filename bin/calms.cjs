#!/usr/bin/env node
'use strict';
// Runs the TypeScript CLI straight from lib/cli through tsx's CommonJS hook (tsx is already installed for
// `npm start`), so there is no build step to forget and `npx calms` always runs the current source.
require('tsx/cjs');
require('../lib/cli/bin.ts');
