/**
 * Builds the score function's asset exactly as `cdk synth` does (same app, same context, real esbuild
 * bundling and onnxruntime copy), then prints its unzipped size and fails if it reaches Lambda's limit.
 *
 *   npm run asset:size
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Stack } from 'aws-cdk-lib';
import { buildPropensityApp, readCdkJsonContext } from '../propensityApp.js';

/** Lambda's limit on a function's unzipped code (decimal megabytes, the stricter reading). */
const UNZIPPED_LIMIT_BYTES = 250 * 1_000_000;
const MB = 1_000_000;

function listFiles(dir: string): { file: string; bytes: number }[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const file = path.join(entry.parentPath, entry.name);
      return { file: path.relative(dir, file), bytes: statSync(file).size };
    });
}

/** Problems that would make the asset wrong even when it is small enough. */
function contentProblems(files: { file: string }[], architecture: string): string[] {
  const wantedBin = `node_modules/onnxruntime-node/bin/napi-v6/linux/${architecture === 'arm64' ? 'arm64' : 'x64'}/`;
  const problems: string[] = [];
  if (!files.some((f) => f.file === 'index.mjs')) problems.push('index.mjs (the bundled handler) is missing');
  if (!files.some((f) => f.file.startsWith(wantedBin) && f.file.endsWith('onnxruntime_binding.node'))) {
    problems.push(`onnxruntime_binding.node is missing under ${wantedBin}`);
  }
  const foreign = files.filter((f) => f.file.includes('/bin/napi-v6/') && !f.file.startsWith(wantedBin));
  if (foreign.length > 0) problems.push(`binaries for other platforms are shipped: ${foreign.map((f) => f.file).join(', ')}`);
  if (files.some((f) => f.file.includes('tfjs-node'))) problems.push('@tensorflow/tfjs-node is shipped; it must not be');
  return problems;
}

/**
 * Imports the bundled handler in a fresh Node process with the environment the stack gives it
 * (references such as the bucket name replaced by a sample value): a bundle that cannot even load,
 * e.g. a CommonJS require the ESM output cannot serve, fails here rather than in Lambda.
 */
function handlerLoadError(assetDir: string, variables: Record<string, unknown>): string | undefined {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', AWS_REGION: 'eu-west-1' };
  for (const [name, value] of Object.entries(variables)) env[name] = typeof value === 'string' ? value : 'propensity-data-sample';
  const script = `const m = await import(${JSON.stringify(pathToFileURL(path.join(assetDir, 'index.mjs')).href)});
if (typeof m.handler !== 'function') { console.error('no exported handler'); process.exit(3); }`;
  try {
    execFileSync(process.execPath, ['--input-type=module', '-e', script], { env, cwd: assetDir, stdio: ['ignore', 'ignore', 'pipe'] });
    return undefined;
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? String(error);
    return stderr.split('\n').filter((line) => line.trim() && !line.includes('NodeVersionSupportWarning')).slice(0, 6).join(' | ');
  }
}

function main(): void {
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'propensity-asset-'));
  try {
    // The CLI turns asset metadata on; it tells which cdk.out folder holds the function's code.
    const context = { ...readCdkJsonContext(), 'aws:cdk:enable-asset-metadata': true };
    const { app, stack } = buildPropensityApp({ context, outdir, nag: false });
    app.synth();

    const logicalId = Stack.of(stack).getLogicalId(stack.scoreFunction.node.defaultChild as never);
    const template = JSON.parse(readFileSync(path.join(outdir, `${stack.artifactId}.template.json`), 'utf8')) as {
      Resources: Record<string, { Metadata?: Record<string, string>; Properties?: { Environment?: { Variables?: Record<string, unknown> } } }>;
    };
    const resource = template.Resources[logicalId];
    const assetPath = resource?.Metadata?.['aws:asset:path'];
    if (!assetPath) throw new Error(`no asset path on ${logicalId}; was bundling skipped?`);
    const assetDir = path.join(outdir, assetPath);

    const files = listFiles(assetDir);
    const total = files.reduce((sum, f) => sum + f.bytes, 0);
    const zipFile = path.join(outdir, 'score.zip');
    execFileSync('zip', ['-qr9', zipFile, '.'], { cwd: assetDir });
    const zipped = statSync(zipFile).size;

    console.log(`score function asset: ${assetPath}`);
    console.log(`  unzipped: ${(total / MB).toFixed(1)} MB (${total} bytes, ${files.length} files)`);
    console.log(`  zipped:   ${(zipped / MB).toFixed(1)} MB`);
    console.log(`  limit:    ${UNZIPPED_LIMIT_BYTES / MB} MB unzipped`);
    console.log('  largest files:');
    for (const f of [...files].sort((a, b) => b.bytes - a.bytes).slice(0, 6)) {
      console.log(`    ${(f.bytes / MB).toFixed(2).padStart(7)} MB  ${f.file}`);
    }

    const architecture = stack.config.lambdaArchitecture;
    const problems = contentProblems(files, architecture);
    const hostMatches = process.platform === 'linux' && process.arch === (architecture === 'arm64' ? 'arm64' : 'x64');
    if (problems.length === 0 && hostMatches) {
      // Loading index.js loads the native binding: proof the copied folder is complete.
      const ort = createRequire(path.join(assetDir, 'index.mjs'))('onnxruntime-node') as { InferenceSession?: unknown };
      if (typeof ort.InferenceSession !== 'function') problems.push('onnxruntime-node from the asset has no InferenceSession');
      else console.log('  onnxruntime-node loads from the asset (native binding found)');
      const loadError = handlerLoadError(assetDir, resource?.Properties?.Environment?.Variables ?? {});
      if (loadError) problems.push(`the bundled handler does not load: ${loadError}`);
      else console.log('  index.mjs loads with the stack\'s environment and exports handler');
    }
    if (total >= UNZIPPED_LIMIT_BYTES) problems.push(`unzipped size ${(total / MB).toFixed(1)} MB is not below ${UNZIPPED_LIMIT_BYTES / MB} MB`);
    if (problems.length > 0) {
      for (const problem of problems) console.error(`FAIL: ${problem}`);
      process.exitCode = 1;
    } else {
      console.log('OK');
    }
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

main();
