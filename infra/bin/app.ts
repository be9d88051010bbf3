#!/usr/bin/env node
// CDK entry (cdk.json: "npx tsx infra/bin/app.ts").
import { buildPropensityApp } from '../propensityApp.js';

buildPropensityApp().app.synth();
