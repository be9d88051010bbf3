import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Size, Validations } from 'aws-cdk-lib';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { BUNDLED_MODELS_DIRNAME, METRICS_NAMESPACE, PART_WORKER_FILE } from '../../functions/core/constants.js';
import type { FunctionNetwork } from './functionNetwork.js';
import { ManagedPolicyRole } from './managedPolicyRole.js';

const requireFromHere = createRequire(import.meta.url);

/** The repository root: entry files, package-lock.json and node_modules are resolved from here. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The one Node.js major of Propensity: the Lambda runtime, the esbuild target and package.json
 * `engines` all follow it (a test keeps them equal). Lambda's newest Node.js runtime known to this
 * aws-cdk-lib, because cdk-nag AwsSolutions-L1 wants the latest.
 */
export const NODE_MAJOR = 24;

/** The pinned `Runtime.ALL` entry of a Node major (not `NODEJS_LATEST`, which shares its name); throws if this aws-cdk-lib does not know it yet. */
function nodeRuntime(major: number): Runtime {
  const runtime = Runtime.ALL.find((candidate) => candidate.name === `nodejs${major}.x` && !candidate.isVariable);
  if (!runtime) throw new Error(`aws-cdk-lib knows no Lambda runtime nodejs${major}.x; upgrade aws-cdk-lib or lower NODE_MAJOR`);
  return runtime;
}

/**
 * The Lambda runtime of every Propensity function, from {@link NODE_MAJOR}. A constant, not
 * `determineLatestNodeRuntime`, so the template holds a literal rather than a region lookup.
 */
export const PROPENSITY_RUNTIME = nodeRuntime(NODE_MAJOR);

/** The esbuild syntax target that matches {@link PROPENSITY_RUNTIME}. */
export const ESBUILD_TARGET = `node${NODE_MAJOR}`;

/** Directory of an installed package, searched the way Node would from this file (some packages do not export package.json). */
function packageDir(name: string): string {
  for (const nodeModules of requireFromHere.resolve.paths(name) ?? []) {
    const dir = path.join(nodeModules, name);
    if (existsSync(path.join(dir, 'package.json'))) return dir;
  }
  throw new Error(`${name} is not installed; run npm ci before synthesizing`);
}

/** Folder name onnxruntime-node uses for the Lambda CPU (`bin/napi-v6/linux/<arch>`). */
function onnxArchFolder(architecture: Architecture): 'x64' | 'arm64' {
  return architecture === Architecture.ARM_64 ? 'arm64' : 'x64';
}

/**
 * Shell commands that add to the bundle what esbuild cannot put in one file:
 * - onnxruntime-node with the Linux binaries of one CPU only (the npm package carries every platform,
 *   288 MB; Lambda needs one folder, ~45 MB);
 * - the tfjs wasm binaries, which the wasm backend loads from disk;
 * - the bundled fallback models (`model-store/<name>/…`, without the registry's TypeScript).
 * With `modelRuntimes: false` (a function that reads bundles but never runs a model) only the models.
 */
export function runtimeFileCommands(
  outputDir: string,
  architecture: Architecture,
  modelsDir: string = path.join(PROJECT_ROOT, BUNDLED_MODELS_DIRNAME),
  options: { readonly modelRuntimes?: boolean } = {},
): string[] {
  const q = (p: string) => JSON.stringify(p);
  const commands = options.modelRuntimes === false ? [] : modelRuntimeCommands(outputDir, architecture);
  const modelFolders = existsSync(modelsDir)
    ? readdirSync(modelsDir, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name)
    : [];
  if (modelFolders.length > 0) {
    const outModels = path.join(outputDir, BUNDLED_MODELS_DIRNAME);
    commands.push(
      `mkdir -p ${q(outModels)}`,
      ...modelFolders.map((folder) => `cp -R ${q(path.join(modelsDir, folder))} ${q(outModels)}/`),
      `find ${q(outModels)} -name '*.ts' -delete`,
    );
  }
  return commands;
}

/** onnxruntime-node (one platform) and the tfjs wasm binaries: what running a model needs beside the bundle. */
function modelRuntimeCommands(outputDir: string, architecture: Architecture): string[] {
  const ort = packageDir('onnxruntime-node');
  const common = packageDir('onnxruntime-common');
  const wasm = path.join(packageDir('@tensorflow/tfjs-backend-wasm'), 'dist');
  const binDir = `bin/napi-v6/linux/${onnxArchFolder(architecture)}`;
  const q = (p: string) => JSON.stringify(p);
  const outOrt = path.join(outputDir, 'node_modules', 'onnxruntime-node');
  const outCommon = path.join(outputDir, 'node_modules', 'onnxruntime-common');
  return [
    `mkdir -p ${q(path.join(outOrt, 'dist'))} ${q(path.join(outOrt, binDir))} ${q(outCommon)}`,
    `cp ${q(path.join(ort, 'package.json'))} ${q(outOrt)}/`,
    `cp ${q(path.join(ort, 'dist'))}/*.js ${q(path.join(outOrt, 'dist'))}/`,
    `cp ${q(path.join(ort, binDir))}/* ${q(path.join(outOrt, binDir))}/`,
    `cp ${q(path.join(common, 'package.json'))} ${q(outCommon)}/`,
    `cp -R ${q(path.join(common, 'dist'))} ${q(outCommon)}/`,
    `find ${q(outCommon)} \\( -name '*.map' -o -name '*.d.ts' \\) -delete`,
    `mkdir -p ${q(path.join(outputDir, 'tfjs-backend-wasm'))}`,
    `cp ${q(wasm)}/*.wasm ${q(path.join(outputDir, 'tfjs-backend-wasm'))}/`,
  ];
}

/** The worker thread of a multi-part run (see `scoreInParts`): its own esbuild entry, beside the handler. */
export const PART_WORKER_ENTRY = 'functions/adapters/workers/scorePartWorker.ts';

/** Options of every function's esbuild bundle, as one place for the handler and the worker entry. */
const BUNDLE_BANNER = [
  "import { createRequire as __propensityCreateRequire } from 'node:module';",
  "import { fileURLToPath as __propensityFileURLToPath } from 'node:url';",
  'const require = __propensityCreateRequire(import.meta.url);',
  'const __filename = __propensityFileURLToPath(import.meta.url);',
  "const __dirname = __propensityFileURLToPath(new URL('.', import.meta.url));",
].join(' ');
const EXTERNAL_MODULES = ['onnxruntime-node', 'onnxruntime-common', '@tensorflow/tfjs-node'];

/**
 * The command that bundles one entry file into `outfile` (one minified ESM file) with the handler's
 * own esbuild settings: the part worker (below), and the bench's scoring run (`bench/throughput.ts
 * --bundled` measures the code as a Lambda runs it).
 */
export function bundleCommand(entry: string, outfile: string): string {
  const q = (p: string) => JSON.stringify(p);
  const esbuild = path.join(packageDir('esbuild'), 'bin', 'esbuild');
  return [
    q(esbuild),
    q(entry),
    '--bundle',
    '--platform=node',
    '--format=esm',
    `--target=${ESBUILD_TARGET}`,
    '--main-fields=module,main',
    '--minify',
    '--sourcemap',
    '--sources-content=false',
    '--log-level=error',
    ...EXTERNAL_MODULES.map((name) => `--external:${name}`),
    `--banner:js=${q(BUNDLE_BANNER)}`,
    `--outfile=${q(outfile)}`,
  ].join(' ');
}

/** The command that bundles the part worker into `<outputDir>/scorePartWorker.mjs` (a `new Worker(file)` is a second entry esbuild cannot find from the handler). */
export function partWorkerCommand(outputDir: string): string {
  return bundleCommand(path.join(PROJECT_ROOT, PART_WORKER_ENTRY), path.join(outputDir, PART_WORKER_FILE));
}

/**
 * esbuild settings shared by every function: one minified ESM file, with onnxruntime-node left out of the
 * bundle (it loads a native binary by a computed path esbuild cannot follow) and copied in afterwards
 * for Linux only, with the other run-time files (see {@link runtimeFileCommands}). tfjs-node is never
 * shipped; the code falls back to the wasm backend.
 */
export function propensityBundling(architecture: Architecture, options: { readonly modelRuntimes?: boolean; readonly partWorker?: boolean } = {}): BundlingOptions {
  return {
    format: OutputFormat.ESM,
    target: ESBUILD_TARGET,
    mainFields: ['module', 'main'],
    minify: true,
    sourceMap: true,
    sourcesContent: false,
    // CommonJS dependencies inside an ESM bundle still call require() for Node built-ins, and the
    // tfjs wasm backend's loader finds its .wasm files through __dirname.
    banner: BUNDLE_BANNER,
    externalModules: EXTERNAL_MODULES,
    forceDockerBundling: false,
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      afterBundling: (_inputDir, outputDir) => [
        ...(options.partWorker ? [partWorkerCommand(outputDir)] : []),
        ...runtimeFileCommands(outputDir, architecture, undefined, options),
      ],
    },
  };
}

export interface PropensityFunctionProps {
  /** Entry file, relative to the repository root (e.g. `functions/score/handler.ts`). */
  readonly entry: string;
  /** Exported function of the entry that Lambda calls. @default 'handler' */
  readonly handler?: string;
  /** Powertools service name, also used in log output. */
  readonly serviceName: string;
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly architecture: Architecture;
  readonly logLevel: string;
  /** Caps the function's concurrency (and reserves it): a burst cannot starve the account, nor the account this function. */
  readonly reservedConcurrentExecutions: number;
  /** Private subnets and security group to run in. @default - outside a VPC (a sandbox only) */
  readonly network?: FunctionNetwork;
  /** Encrypts the function's log group. @default - CloudWatch Logs' own encryption (a sandbox only) */
  readonly encryptionKey?: IKey;
  /**
   * Whether the function runs models (scoring, training): ships onnxruntime-node and the tfjs wasm
   * files. `false` for one that only reads bundles (the drift check): a smaller asset, a faster cold start.
   * @default true
   */
  readonly modelRuntimes?: boolean;
  /**
   * Whether the function scores extracts on worker threads: ships the part worker
   * (`scorePartWorker.mjs`) beside the handler.
   * @default false
   */
  readonly partWorker?: boolean;
  /**
   * Size of `/tmp` (512 to 10,240 MB): a scoring run spools its scored and rejected lines there.
   * @default 512 (Lambda's default)
   */
  readonly ephemeralStorageMb?: number;
}

/**
 * A Node.js Lambda function bundled the Propensity way, with its own log group (under the data key)
 * and a role whose grants live in one customer-managed policy: logging rights cover only its log
 * group, and data rights are added by `DataBucketAccess.bindToFunction`. X-Ray tracing is active
 * (the handlers' Powertools Tracer adds subsegments); in a network, the role may attach it there.
 */
export class PropensityFunction extends NodejsFunction {
  /** Whether the asset ships the model runtimes (see {@link PropensityFunctionProps.modelRuntimes}). */
  public readonly modelRuntimes: boolean;
  /** Whether the asset ships the part worker (see {@link PropensityFunctionProps.partWorker}). */
  public readonly partWorker: boolean;

  constructor(scope: Construct, id: string, props: PropensityFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
      ...(props.encryptionKey ? { encryptionKey: props.encryptionKey } : {}),
    });
    const role = new ManagedPolicyRole(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs ${props.serviceName}`,
    });
    super(scope, id, {
      entry: path.join(PROJECT_ROOT, props.entry),
      handler: props.handler ?? 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      runtime: PROPENSITY_RUNTIME,
      architecture: props.architecture,
      memorySize: props.memorySize,
      timeout: props.timeout,
      description: props.description,
      role,
      logGroup,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      tracing: Tracing.ACTIVE,
      ...(props.network?.placement ?? {}),
      bundling: propensityBundling(props.architecture, { modelRuntimes: props.modelRuntimes ?? true, partWorker: props.partWorker ?? false }),
      ...(props.ephemeralStorageMb === undefined ? {} : { ephemeralStorageSize: Size.mebibytes(props.ephemeralStorageMb) }),
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        LOG_LEVEL: props.logLevel,
        // The bundle is minified; source maps turn stack traces back into TypeScript lines.
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
    logGroup.grantWrite(role);
    props.network?.grantNetworkInterfaces(role);
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: `X-Ray accepts trace segments on no narrower resource than "*"${props.network ? '; nor does EC2 for the network interfaces Lambda attaches the function with (as in AWSLambdaVPCAccessExecutionRole)' : ''}.`,
    });
    this.modelRuntimes = props.modelRuntimes ?? true;
    this.partWorker = props.partWorker ?? false;
  }
}
