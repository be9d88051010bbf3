import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** One import of a module: what it names and whether it vanishes at run time (`import type`). */
export interface ModuleImport {
  readonly specifier: string;
  /** Erased by TypeScript: `import type …`, `export type … from`, or every named binding `type`. */
  readonly typeOnly: boolean;
  readonly line: number;
}

/**
 * Every import of a TypeScript source, static and dynamic (`import()`, `require()`), read with the
 * compiler's own parser so that comments and strings are never taken for imports.
 */
export function readImports(fileName: string, text: string): ModuleImport[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const found: ModuleImport[] = [];
  const add = (node: ts.Node, literal: ts.Expression, typeOnly: boolean) => {
    if (!ts.isStringLiteralLike(literal)) return;
    found.push({ specifier: literal.text, typeOnly, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1 });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const bindings = clause?.namedBindings;
      const everyNamedIsType =
        !!clause && !clause.name && !!bindings && ts.isNamedImports(bindings) && bindings.elements.length > 0 && bindings.elements.every((e) => e.isTypeOnly);
      add(node, node.moduleSpecifier, !!clause && (clause.isTypeOnly || everyNamedIsType));
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      add(node, node.moduleSpecifier, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.arguments.length > 0) {
      const isDynamicImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      if (isDynamicImport || isRequire) add(node, node.arguments[0]!, false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node, node.argument.literal, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The `.ts` files below a folder (absolute paths, sorted). */
export function listTsFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...listTsFiles(full));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) files.push(full);
  }
  return files.sort();
}

/** The file a relative specifier names (`./x.js` → `x.ts`), or null for a package or node: module. */
export function resolveRelative(fromFile: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  return path.resolve(path.dirname(fromFile), specifier).replace(/\.js$/, '.ts');
}

/** Modules the core must never load at run time: cloud SDKs, model runtimes and the filesystem. */
export const FORBIDDEN_IN_CORE: readonly RegExp[] = [
  /^@aws-sdk\//,
  /^@aws-lambda-powertools\//,
  /^aws-lambda$/,
  /^aws-cdk-lib(\/|$)/,
  /^onnxruntime-node$/,
  /^@tensorflow\//,
  /^(node:)?fs(\/promises)?$/,
  /^(node:)?os$/,
  /^(node:)?readline$/,
  /^(node:)?child_process$/,
  /^(node:)?(net|http|https)$/,
];

export interface BoundaryViolation {
  readonly file: string;
  readonly line: number;
  readonly specifier: string;
  readonly why: string;
}

/**
 * Checks the core's boundary: no forbidden module loaded at run time (type-only imports are erased
 * and allowed), and no relative import that leaves the core folder (adapters, handlers, model-store).
 * @param sources file path → text, every file of the core
 */
export function findBoundaryViolations(coreDir: string, sources: ReadonlyMap<string, string>): BoundaryViolation[] {
  const violations: BoundaryViolation[] = [];
  for (const [file, text] of sources) {
    for (const { specifier, typeOnly, line } of readImports(file, text)) {
      const target = resolveRelative(file, specifier);
      if (target !== null) {
        if (!target.startsWith(`${coreDir}${path.sep}`)) violations.push({ file, line, specifier, why: 'reaches out of functions/core' });
      } else if (!typeOnly && FORBIDDEN_IN_CORE.some((pattern) => pattern.test(specifier))) {
        violations.push({ file, line, specifier, why: 'loads a module the core must not (AWS, a model runtime or the filesystem)' });
      }
    }
  }
  return violations;
}

/** Every import cycle among the given files (type-only imports count: they still tie modules together). */
export function findImportCycles(sources: ReadonlyMap<string, string>): string[][] {
  const edges = new Map<string, string[]>();
  for (const [file, text] of sources) {
    const targets = readImports(file, text)
      .map((i) => resolveRelative(file, i.specifier))
      .filter((t): t is string => t !== null && sources.has(t));
    edges.set(file, [...new Set(targets)]);
  }
  // Tarjan's strongly connected components: each component of more than one file is a cycle.
  let index = 0;
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const connect = (file: string): void => {
    order.set(file, index);
    low.set(file, index++);
    stack.push(file);
    onStack.add(file);
    for (const next of edges.get(file) ?? []) {
      if (!order.has(next)) {
        connect(next);
        low.set(file, Math.min(low.get(file)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(file, Math.min(low.get(file)!, order.get(next)!));
      }
    }
    if (low.get(file) === order.get(file)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== file);
      if (component.length > 1 || (edges.get(file) ?? []).includes(file)) cycles.push(component.sort());
    }
  };
  for (const file of sources.keys()) if (!order.has(file)) connect(file);
  return cycles;
}

/** The files of a folder with their text, for the checks above. */
export function readSources(dir: string): Map<string, string> {
  return new Map(listTsFiles(dir).map((file) => [file, readFileSync(file, 'utf8')]));
}
