// ESLint 9 flat config: typescript-eslint's type-aware recommended rules over the whole tree, plus the
// core boundary (functions/core knows nothing of AWS, native runtimes, the file system or the adapters).
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const noIo = 'The core does no I/O and does not depend on the host: take bytes, streams, sizes or a port from the caller (functions/adapters).';
const hostModules = ['node:fs', 'fs', 'node:fs/promises', 'fs/promises', 'node:os', 'os', 'node:readline', 'readline'];

/**
 * The core boundary for a file `depth` folders below functions/core: no value imports of AWS or model
 * runtimes (types are fine), no file system or host modules, and no relative import that climbs out of
 * functions/core (adapters, entry points, model-store and infra depend on the core, never the reverse).
 * @param {number} depth
 */
function coreBoundary(depth) {
  return {
    files: [`functions/core/${'*/'.repeat(depth)}*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: hostModules.map((name) => ({ name, message: noIo })),
          patterns: [
            {
              group: ['@aws-sdk/*', '@aws-lambda-powertools/*', 'aws-lambda', 'onnxruntime-node', '@tensorflow/*'],
              allowTypeImports: true,
              message: 'The core knows nothing of AWS or model runtimes: put this behind a port in functions/adapters (type-only imports are fine).',
            },
            {
              regex: `^(\\.\\./){${depth + 1}}`,
              message: 'The core must not reach out of functions/core: adapters and entry points depend on it, not the other way round.',
            },
          ],
        },
      ],
    },
  };
}

export default defineConfig(
  {
    // model-store/ holds bundle data only (manifests, models, reports): no code to lint.
    ignores: ['node_modules/', 'cdk.out/', 'dist/', 'coverage/', 'model-store/'],
  },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          // Plain JS entry points outside tsconfig.json: the bin shim, the part worker's tsx shim and this file.
          allowDefaultProject: ['bin/*.mjs', 'functions/adapters/workers/*.mjs', 'eslint.config.js'],
        },
        tsconfigRootDir: import.meta.dirname,
      },
      globals: { ...globals.node },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Destructuring a key away with `...rest` is how we omit it from a copy: the key is unused on purpose.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
    },
  },
  // One block per folder depth under functions/core (two deep today; four leaves room).
  [0, 1, 2, 3, 4].map(coreBoundary),
);
