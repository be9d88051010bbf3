import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Architecture } from 'aws-cdk-lib/aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { propensityBundling, runtimeFileCommands } from '../../infra/constructs/propensityFunction.js';

const temporary: string[] = [];
afterEach(() => {
  for (const dir of temporary.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'propensity-infra-'));
  temporary.push(dir);
  return dir;
}

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
}

/** Runs the afterBundling commands the way CDK's local bundling does: one shell, stop at the first failure. */
function runCommands(commands: string[]): void {
  execFileSync('bash', ['-c', ['set -e', ...commands].join('\n')], { stdio: 'pipe' });
}

describe('runtimeFileCommands', () => {
  it('ships onnxruntime-node with the linux-x64 binaries only, onnxruntime-common and the tfjs wasm files', () => {
    const out = tempDir();
    runCommands(runtimeFileCommands(out, Architecture.X86_64, path.join(out, 'no-models-here')));
    const shipped = files(out);
    expect(shipped.filter((f) => f.includes('/bin/'))).toEqual([
      'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1',
      'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node',
    ]);
    expect(shipped).toContain('node_modules/onnxruntime-node/package.json');
    expect(shipped).toContain('node_modules/onnxruntime-node/dist/index.js');
    expect(shipped).toContain('node_modules/onnxruntime-common/dist/cjs/index.js');
    expect(shipped.filter((f) => f.endsWith('.map') || f.endsWith('.d.ts'))).toEqual([]);
    expect(shipped.filter((f) => f.startsWith('tfjs-backend-wasm/'))).toEqual([
      'tfjs-backend-wasm/tfjs-backend-wasm-simd.wasm',
      'tfjs-backend-wasm/tfjs-backend-wasm-threaded-simd.wasm',
      'tfjs-backend-wasm/tfjs-backend-wasm.wasm',
    ]);
    expect(shipped.some((f) => f.includes('tfjs-node'))).toBe(false);
    expect(shipped.some((f) => f.startsWith('model-store/'))).toBe(false);
  });

  it('ships only the bundled models for a function that runs no model', () => {
    const out = tempDir();
    const models = tempDir();
    mkdirSync(path.join(models, 'bank-marketing'));
    writeFileSync(path.join(models, 'bank-marketing', 'manifest.json'), '{}');
    runCommands(runtimeFileCommands(out, Architecture.X86_64, models, { modelRuntimes: false }));
    expect(files(out)).toEqual(['model-store/bank-marketing/manifest.json']);
  });

  it('picks the linux-arm64 binaries for an ARM function', () => {
    const commands = runtimeFileCommands('/asset', Architecture.ARM_64, '/no-models');
    const binaryCopy = commands.filter((c) => c.includes('bin/napi-v6'));
    expect(binaryCopy.join('\n')).toContain('bin/napi-v6/linux/arm64');
    expect(binaryCopy.join('\n')).not.toContain('linux/x64');
  });

  it('copies the bundled model folders into model-store/, without the registry TypeScript', () => {
    const repoModels = tempDir();
    mkdirSync(path.join(repoModels, 'audiobooks', '1.0.0'), { recursive: true });
    writeFileSync(path.join(repoModels, 'audiobooks', '1.0.0', 'manifest.json'), '{}');
    writeFileSync(path.join(repoModels, 'audiobooks', 'champion.json'), '{"version":"1.0.0"}');
    writeFileSync(path.join(repoModels, 'registry.ts'), 'export {};');
    writeFileSync(path.join(repoModels, 'audiobooks', 'fixture.ts'), 'export {};');
    const out = tempDir();
    runCommands(runtimeFileCommands(out, Architecture.X86_64, repoModels).filter((c) => c.includes('model-store')));
    expect(files(out)).toEqual(['model-store/audiobooks/1.0.0/manifest.json', 'model-store/audiobooks/champion.json']);
  });
});

describe('propensityBundling', () => {
  it('bundles one ESM file and keeps onnxruntime and tfjs-node out of it', () => {
    const bundling = propensityBundling(Architecture.X86_64);
    expect(bundling.format).toBe('esm');
    expect(bundling.externalModules).toEqual(['onnxruntime-node', 'onnxruntime-common', '@tensorflow/tfjs-node']);
    expect(bundling.forceDockerBundling).toBe(false);
    expect(bundling.banner).toContain('createRequire');
  });
});

describe('the part worker in the score asset', () => {
  it('bundles scorePartWorker.mjs beside the handler, only for a function that scores on worker threads', () => {
    // Prepare
    const out = tempDir();
    const score = propensityBundling(Architecture.X86_64, { partWorker: true, modelRuntimes: false });
    const other = propensityBundling(Architecture.X86_64, { modelRuntimes: false });
    // Act: the score function's afterBundling commands (the bundled models copied too).
    runCommands(score.commandHooks!.afterBundling(process.cwd(), out));
    // Assess: an ESM bundle that keeps onnxruntime-node external, as the handler does.
    const worker = readFileSync(path.join(out, 'scorePartWorker.mjs'), 'utf8');
    expect(worker).toMatch(/from\s*"onnxruntime-node"|import\("onnxruntime-node"\)/);
    expect(worker).toContain('__propensityCreateRequire');
    expect(other.commandHooks!.afterBundling(process.cwd(), out).some((c) => c.includes('scorePartWorker'))).toBe(false);
  }, 60_000);
});
