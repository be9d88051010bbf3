import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildPropensityApp, readCdkJsonContext } from './propensityApp.js';
const outdir = mkdtempSync(path.join(os.tmpdir(), 'h5load-'));
const { app } = buildPropensityApp({ context: { ...readCdkJsonContext(), 'aws:cdk:enable-asset-metadata': true, '@aws-cdk/core:validateAgainstDefaultRules': false }, outdir, nag: false });
app.synth();
console.log(outdir);
