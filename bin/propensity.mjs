#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx propensity …` works without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../functions/cli/propensity.ts');
