import { createRng } from '../../../functions/core/training/seededRandom.js';
import type { TrainingSpecInput } from '../../../functions/core/training/trainingSpec.js';
import type { TrainingTable } from '../../../functions/core/training/trainingTable.js';

/**
 * A small labelled table with a known signal: `y` is drawn from sigmoid(2·x1 − x2 + 1.5·[plan = gold] − 1),
 * with a few empty cells. Classes `no`/`yes` (binary) or `bronze`/`silver`/`gold` by score (multiclass).
 */
export function syntheticTable(rows: number, seed: number, task: 'binary' | 'multiclass' = 'binary'): TrainingTable {
  const rng = createRng(seed);
  const plans = ['basic', 'plus', 'gold'];
  const records: string[][] = [];
  for (let i = 0; i < rows; i++) {
    const x1 = rng() * 2 - 1;
    const x2 = rng() * 2 - 1;
    const plan = plans[Math.floor(rng() * 3)]!;
    const z = 2 * x1 - x2 + (plan === 'gold' ? 1.5 : 0) - 1;
    let label: string;
    if (task === 'binary') label = rng() < 1 / (1 + Math.exp(-z)) ? 'yes' : 'no';
    else {
      const noisy = z + (rng() - 0.5) * 1.5;
      label = noisy < -1 ? 'bronze' : noisy < 0.5 ? 'silver' : 'gold';
    }
    records.push([String(1000 + i), rng() < 0.02 ? '' : x1.toFixed(4), x2.toFixed(4), plan, label]);
  }
  return { source: `synthetic-${task}.csv`, header: ['id', 'x1', 'x2', 'plan', 'label'], records };
}

/** A training spec for {@link syntheticTable}: tiny MLP, few epochs, so tests stay fast. */
export function syntheticSpec(overrides: Partial<TrainingSpecInput> = {}): TrainingSpecInput {
  return {
    name: 'synthetic',
    featureSpec: {
      columns: [
        { name: 'id', role: 'id' },
        { name: 'x1', role: 'feature', type: 'numeric', impute: { strategy: 'median', indicator: true } },
        { name: 'x2', role: 'feature', type: 'numeric' },
        { name: 'plan', role: 'feature', type: 'categorical' },
        { name: 'label', role: 'target', type: 'categorical' },
      ],
    },
    model: { kind: 'mlp', layers: [8, 4], dropout: 0.1 },
    training: { seed: 5, epochs: 6, batchSize: 64, learningRate: 0.01, patience: 3, importanceRepeats: 1 },
    economics: { costPerContact: 2, valuePerResponse: 10 },
    ...overrides,
  };
}
