import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findBoundaryViolations, findImportCycles, readImports, readSources, resolveRelative } from '../helpers/importGraph.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CORE = path.join(REPO, 'functions', 'core');
const ADAPTERS = path.join(REPO, 'functions', 'adapters');
const relative = (file: string) => path.relative(REPO, file);

describe('the core boundary (functions/core)', () => {
  const core = readSources(CORE);

  it('loads no AWS SDK, Powertools, model runtime or filesystem module, and never reaches out of the core', () => {
    // Prepare / Act
    const violations = findBoundaryViolations(CORE, core).map((v) => `${relative(v.file)}:${v.line} ${v.specifier} (${v.why})`);
    // Assess
    expect(core.size).toBeGreaterThan(50);
    expect(violations).toEqual([]);
  });

  it('has no import cycle, type-only imports included', () => {
    expect(findImportCycles(core).map((cycle) => cycle.map(relative))).toEqual([]);
  });
});

describe('the other layers', () => {
  it('adapters import the core and packages, never a handler, the CLI or the demo', () => {
    const entryFolders = ['score', 'drift', 'retrain', 'scheduled', 'cli', 'local'].map((name) => path.join(REPO, 'functions', name) + path.sep);
    const wrong: string[] = [];
    for (const [file, text] of readSources(ADAPTERS)) {
      for (const { specifier, line } of readImports(file, text)) {
        const target = resolveRelative(file, specifier);
        if (target && entryFolders.some((folder) => target.startsWith(folder))) wrong.push(`${relative(file)}:${line} ${specifier}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('model-store/ holds model folders only: data, no code', () => {
    const code: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (/\.(ts|js|mjs|cjs)$/.test(entry.name)) code.push(relative(full));
      }
    };
    walk(path.join(REPO, 'model-store'));
    expect(code).toEqual([]);
  });
});

describe('the checks themselves catch what they must', () => {
  const core = '/repo/functions/core';
  const check = (text: string) => findBoundaryViolations(core, new Map([[`${core}/engine/example.ts`, text]])).map((v) => [v.specifier, v.line]);

  it('flags a value import, a dynamic import and a require of a forbidden module, with its line', () => {
    const text = [
      "import * as ort from 'onnxruntime-node';",
      "import { readFile } from 'node:fs/promises';",
      "const tf = await import('@tensorflow/tfjs');",
      "const os = require('os');",
      "import { Metrics } from '@aws-lambda-powertools/metrics';",
      "export { S3Client } from '@aws-sdk/client-s3';",
    ].join('\n');
    expect(check(text)).toEqual([
      ['onnxruntime-node', 1],
      ['node:fs/promises', 2],
      ['@tensorflow/tfjs', 3],
      ['os', 4],
      ['@aws-lambda-powertools/metrics', 5],
      ['@aws-sdk/client-s3', 6],
    ]);
  });

  it('allows type-only imports (erased at run time), node:stream and node:crypto, and ignores comments and strings', () => {
    const text = [
      "import type * as tf from '@tensorflow/tfjs';",
      "import { type Writable } from 'node:stream';",
      "import { createHash } from 'node:crypto';",
      "// import { readFile } from 'node:fs';",
      "const hint = \"import('onnxruntime-node')\";",
      "type Session = import('onnxruntime-node').InferenceSession;",
    ].join('\n');
    expect(check(text)).toEqual([]);
  });

  it('flags a relative import out of the core even when it is type-only', () => {
    const text = "import type { FsRegistry } from '../../adapters/fs/fsRegistry.js';\nimport { x } from '../spec/featureSpec.js';";
    expect(check(text)).toEqual([['../../adapters/fs/fsRegistry.js', 1]]);
  });

  it('finds a cycle through a type-only import, and none in a chain', () => {
    const a = `${core}/a.ts`;
    const b = `${core}/b.ts`;
    const c = `${core}/c.ts`;
    const cyclic = new Map([
      [a, "import { b } from './b.js';"],
      [b, "import type { A } from './a.js';"],
      [c, "import { a } from './a.js';"],
    ]);
    expect(findImportCycles(cyclic)).toEqual([[a, b]]);
    const chain = new Map([
      [a, "import { b } from './b.js';"],
      [b, "import { c } from './c.js';"],
      [c, 'export const c = 1;'],
    ]);
    expect(findImportCycles(chain)).toEqual([]);
  });
});
