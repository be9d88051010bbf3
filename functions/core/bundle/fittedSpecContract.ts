import { orderedFeatureColumns, slotNames, textSlotNames } from '../spec/fitSpec.js';
import { crossLevels, crossLookupSize } from '../spec/featureCrosses.js';
import { crossName, fittedSlotCount, type FittedColumn, type FittedSpec } from '../spec/featureSpec.js';

/** Why a fitted spec cannot drive the encoder: the field (`featureSpec.…`) and what is wrong with it. */
export interface FittedSpecProblem {
  readonly field: string;
  readonly message: string;
}

const isIndexIn = (index: number, length: number) => Number.isInteger(index) && index >= 0 && index < length;

/**
 * Checks everything the row encoder trusts in a fitted spec, before it compiles one: every feature has
 * fitted parameters of the kind its type needs, every index (`otherIndex`, `fillIndex`, sequence offsets)
 * points inside its block, every divisor is usable, and the slot names the encoder writes, in order, are
 * `featureNames` (so `featureNames.length` is the encoder width). The schema checks types; this checks
 * that the parts agree with each other.
 * @returns the first problem, or undefined when the spec is sound.
 */
export function fittedSpecProblem(fitted: FittedSpec): FittedSpecProblem | undefined {
  const ordered = orderedFeatureColumns(fitted.spec);
  const columnStart = new Map<string, number>();
  let width = 0;
  for (const column of ordered) {
    const field = `featureSpec.columns.${column.name}`;
    const fit = Object.hasOwn(fitted.columns, column.name) ? fitted.columns[column.name] : undefined;
    if (!fit) return { field, message: `feature "${column.name}" has no fitted parameters` };
    const expectedKind = column.type === 'categorical' ? 'categorical' : 'numeric';
    if (fit.kind !== expectedKind) return { field: `${field}.kind`, message: `is ${fit.kind}, a ${column.type} column needs ${expectedKind}` };
    columnStart.set(column.name, width);
    if (fit.kind === 'numeric') {
      for (const key of ['fill', 'shift', 'scale'] as const) {
        if (!Number.isFinite(fit[key])) return { field: `${field}.${key}`, message: `${fit[key]} is not a finite number` };
      }
      if (fit.scale === 0) return { field: `${field}.scale`, message: 'is 0 (the encoder divides by it)' };
      if (fit.clipLower !== null && fit.clipUpper !== null && fit.clipLower > fit.clipUpper) {
        return { field: `${field}.clipLower`, message: `${fit.clipLower} is above clipUpper ${fit.clipUpper}` };
      }
      if (fit.edges) {
        const at = fit.edges.findIndex((edge, i) => !Number.isFinite(edge) || (i > 0 && edge <= fit.edges![i - 1]!));
        if (at >= 0) {
          const edge = fit.edges[at]!;
          return { field: `${field}.edges[${at}]`, message: Number.isFinite(edge) ? `${edge} is not above the edge before it (PLE edges rise strictly)` : `${edge} is not a finite number` };
        }
      }
      width += fittedSlotCount(fit);
    } else {
      const size = fit.vocabulary.length;
      if (size === 0) return { field: `${field}.vocabulary`, message: 'is empty' };
      const duplicate = fit.vocabulary.find((value, i) => fit.vocabulary.indexOf(value) !== i);
      if (duplicate !== undefined) return { field: `${field}.vocabulary`, message: `holds "${duplicate}" twice` };
      if (fit.unknown === 'ignore') {
        if (fit.otherIndex !== -1) return { field: `${field}.otherIndex`, message: `is ${fit.otherIndex}: with unknown "ignore" there is no other slot (-1)` };
      } else if (!isIndexIn(fit.otherIndex, size)) {
        return {
          field: `${field}.otherIndex`,
          message: `${fit.otherIndex} is outside the vocabulary's ${size} slots (0…${size - 1}); for an all-zero block on unseen values set "unknown": "ignore" and otherIndex -1`,
        };
      }
      if (fit.fillIndex !== null && !isIndexIn(fit.fillIndex, size)) {
        return { field: `${field}.fillIndex`, message: `${fit.fillIndex} is outside the vocabulary's ${size} slots (0…${size - 1})` };
      }
      if (column.feed === 'string') continue;
      width += fittedSlotCount(fit);
    }
    if (column.impute?.indicator === true) width += 1;
  }

  const crossProblem = crossesProblem(fitted);
  if (crossProblem) return crossProblem;

  const expectedText = textSlotNames(fitted.spec);
  const text = fitted.textNames ?? [];
  if (expectedText.join('\u0000') !== text.join('\u0000')) {
    return { field: 'featureSpec.textNames', message: `are [${text.join(', ')}], the spec's string-fed columns are [${expectedText.join(', ')}]` };
  }
  const expected = slotNames(fitted.spec, fitted.columns, fitted.crosses);
  const names = fitted.featureNames;
  if (fitted.slotOrder === 'featureNames') return permutationProblem(expected, names) ?? sequenceProblem(fitted, ordered, columnStart, width);
  for (let slot = 0; slot < Math.max(expected.length, names.length); slot++) {
    if (expected[slot] !== names[slot]) {
      const field = `featureSpec.featureNames[${slot}]`;
      if (slot >= names.length) return { field, message: `is missing: the encoder writes ${expected.length} slots, featureNames names ${names.length}; slot ${slot} is "${expected[slot]}"` };
      if (slot >= expected.length) return { field, message: `"${names[slot]}" is extra: the encoder writes ${expected.length} slots, featureNames names ${names.length}` };
      return { field, message: `is "${names[slot]}", the encoder writes "${expected[slot]}" there` };
    }
  }

  return sequenceProblem(fitted, ordered, columnStart, width);
}

/**
 * Fitted crosses must be the spec's, in its order, and every combination one category of each source
 * (none of them `other`), given once. (The block's slots are counted by the featureNames check.)
 */
function crossesProblem(fitted: FittedSpec): FittedSpecProblem | undefined {
  const specified = fitted.spec.crosses ?? [];
  const crosses = fitted.crosses ?? [];
  if (crosses.length !== specified.length) return { field: 'featureSpec.crosses', message: `lists ${crosses.length} fitted cross(es), the spec gives ${specified.length}` };
  for (const [i, cross] of crosses.entries()) {
    const field = `featureSpec.crosses[${i}]`;
    const name = crossName(specified[i]!);
    if (crossName(cross) !== name) return { field: `${field}.columns`, message: `are [${cross.columns.join(', ')}], the spec's cross at this position is "${name}"` };
    const sources = cross.columns.map((column) => fitted.columns[column]);
    if (JSON.stringify(cross.bins ?? null) !== JSON.stringify(specified[i]!.bins ?? null)) return { field: `${field}.bins`, message: `cross "${name}": the fitted bins differ from the spec's` };
    const unfit = sources.findIndex((fit, k) => !fit || (fit.kind === 'numeric' && !cross.bins?.[cross.columns[k]!]));
    if (unfit >= 0) return { field: `${field}.columns`, message: `cross "${name}" needs fitted categorical columns, or numeric ones with bins ("${cross.columns[unfit]}")` };
    const levels = crossLevels(cross, sources as FittedColumn[]);
    if (crossLookupSize(levels) > Number.MAX_SAFE_INTEGER) return { field: `${field}.columns`, message: `cross "${name}": the sources have too many categories to index their combinations` };
    const seen = new Set<string>();
    for (const [c, combination] of cross.combinations.entries()) {
      const at = `${field}.combinations[${c}]`;
      if (combination.length !== cross.columns.length) return { field: at, message: `holds ${combination.length} categories, the cross has ${cross.columns.length} columns` };
      const k = combination.findIndex((value, k) => {
        const source = levels[k]!;
        const level = source.labels.indexOf(value);
        return level < 0 || (source.levelOfSlot !== undefined && !source.levelOfSlot.includes(level));
      });
      if (k >= 0) return { field: at, message: `"${combination[k]}" is not a kept ${cross.bins?.[cross.columns[k]!] ? 'band' : 'category'} of "${cross.columns[k]}"` };
      const key = JSON.stringify(combination);
      if (seen.has(key)) return { field: at, message: 'is given twice' };
      seen.add(key);
    }
  }
  return undefined;
}

/** With an explicit slot order, `featureNames` must name every slot the encoder writes exactly once. */
function permutationProblem(expected: readonly string[], names: readonly string[]): FittedSpecProblem | undefined {
  const field = 'featureSpec.featureNames';
  if (names.length !== expected.length) return { field, message: `names ${names.length} slots, the encoder writes ${expected.length}` };
  const wanted = new Set(expected);
  const seen = new Set<string>();
  for (const [slot, name] of names.entries()) {
    if (!wanted.has(name)) return { field: `${field}[${slot}]`, message: `"${name}" is not a slot the encoder writes` };
    if (seen.has(name)) return { field: `${field}[${slot}]`, message: `"${name}" is named twice` };
    seen.add(name);
  }
  return undefined;
}

/** The `sequences` layout must be the one the spec's sequence groups give, inside the encoded vector. */
function sequenceProblem(
  fitted: FittedSpec,
  ordered: ReturnType<typeof orderedFeatureColumns>,
  columnStart: ReadonlyMap<string, number>,
  width: number,
): FittedSpecProblem | undefined {
  const groups = [...new Set(ordered.filter((c) => c.sequence).map((c) => c.sequence!.group))];
  const layouts = fitted.sequences ?? [];
  if (layouts.length !== groups.length) {
    return { field: 'featureSpec.sequences', message: `lists ${layouts.length} group(s), the spec's columns form ${groups.length}` };
  }
  for (const [i, layout] of layouts.entries()) {
    const field = `featureSpec.sequences[${i}]`;
    const group = groups[i]!;
    if (layout.group !== group) return { field: `${field}.group`, message: `is "${layout.group}", the spec's group at this position is "${group}"` };
    const members = ordered.filter((c) => c.sequence?.group === group);
    const features = [...new Set(members.map((c) => c.sequence!.feature))];
    const periods = new Set(members.map((c) => c.sequence!.period)).size;
    const wide = members.find((c) => c.type === 'categorical' || c.impute?.indicator === true);
    if (wide) return { field: `featureSpec.columns.${wide.name}`, message: 'a sequence column must be numeric with one slot (no indicator)' };
    const start = columnStart.get(members[0]!.name)!;
    if (layout.offset !== start) return { field: `${field}.offset`, message: `is ${layout.offset}, the group's first slot is ${start}` };
    if (layout.periods !== periods) return { field: `${field}.periods`, message: `is ${layout.periods}, the spec gives ${periods}` };
    if (layout.features.length !== features.length || layout.features.some((f, k) => f !== features[k])) {
      return { field: `${field}.features`, message: `are [${layout.features.join(', ')}], the spec gives [${features.join(', ')}]` };
    }
    if (members.length !== periods * features.length || layout.offset + periods * features.length > width) {
      return { field, message: `${periods} periods × ${features.length} features from slot ${layout.offset} do not fit the ${members.length} columns / ${width} slots` };
    }
  }
  return undefined;
}
