import { describe, expect, it } from 'vitest';
import { loadModel } from '../../../functions/adapters/model/modelLoader.js';
import { loadBundle } from '../../../functions/core/engine/loadBundle.js';
import { compilePredictor, type BinaryPrediction } from '../../../functions/core/predict/customerPredictor.js';
import { sigmoid, tinyBinaryBundle, TINY_WEIGHTS } from '../../helpers/tinyBundle.js';

const p = (age: number, member: number) => sigmoid(TINY_WEIGHTS.age * age + TINY_WEIGHTS.member * member + TINY_WEIGHTS.bias);

describe('online predict at the bundle\'s economics', () => {
  it('applies saveRate to the expected value, and predicted follows it as scores.csv does', async () => {
    // EUR 10 a contact, 100 a response, half of the responders saved: worth it when p·50 > 10.
    const files = await tinyBinaryBundle({ economics: { costPerContact: 10, valuePerResponse: 100, fixedCost: 0, saveRate: 0.5 } });
    const bundle = await loadBundle(files, loadModel);
    try {
      const response = await compilePredictor(bundle).predict({
        customers: [
          { customer_id: 'c1', age: 20, member: 'yes' }, // p = 0.5 → 25 − 10 = 15
          { customer_id: 'c3', age: 0, member: 'no' }, // p ≈ 0.119 → ≈ −4.04
        ],
        explain: false,
      });
      const [c1, c3] = response.customers as BinaryPrediction[];
      expect(c1).toMatchObject({ id: 'c1', predicted: 'yes', selected: true });
      expect(c1!.expectedValue).toBeCloseTo(p(20, 1) * 50 - 10, 5);
      expect(c3).toMatchObject({ id: 'c3', predicted: 'no', selected: false });
      expect(c3!.expectedValue).toBeCloseTo(p(0, 0) * 50 - 10, 5);
    } finally {
      await bundle.model.dispose();
    }
  });
});
