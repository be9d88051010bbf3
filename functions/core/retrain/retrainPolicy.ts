import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { parseWith } from '../validation.js';

/**
 * When to retrain, and when a retrained model (the challenger) may replace the champion.
 * Read once per scheduled run from config; every field has a default.
 */
export const retrainPolicySchema = z
  .object({
    /** Retrain only once at least this many labelled outcomes arrived since the champion was trained. */
    minNewLabels: z.number().int().nonnegative().default(1000),
    /** Retrain only while a drift or performance alarm fires (else: whenever there are enough labels). */
    onlyOnAlarm: z.boolean().default(false),
    /** The metric the challenger must win on. */
    metric: z.enum(['auc', 'expectedProfit']).default('auc'),
    /** `auc`: the challenger's AUC must exceed the champion's by at least this (absolute). */
    minAucGain: z.number().nonnegative().default(0.005),
    /** `expectedProfit`: the challenger's holdout profit must exceed the champion's by this share of |champion's profit|. */
    minProfitGain: z.number().nonnegative().default(0.02),
    /** "Not worse on calibration": the challenger's ECE may exceed the champion's by at most this (absolute). */
    maxEceIncrease: z.number().nonnegative().default(0.005),
  })
  .strict();

export type RetrainPolicy = z.infer<typeof retrainPolicySchema>;
export type RetrainPolicyInput = z.input<typeof retrainPolicySchema>;

/**
 * Validates a retraining policy and fills defaults.
 * @throws ConfigError naming the offending key.
 */
export function parseRetrainPolicy(value: unknown = {}, source = 'retrain policy'): RetrainPolicy {
  return parseWith(retrainPolicySchema, value ?? {}, ({ path, message }) => new ConfigError('CONFIG_INVALID', message, { key: path, source }));
}

/** How a model did on the holdout both models are judged on. */
export interface ModelEvaluation {
  /** ROC AUC (multiclass: macro one-vs-rest). */
  readonly auc: number;
  /** Profit of the economics' selection on the labelled holdout (binary; NaN when not computable). */
  readonly expectedProfit: number;
  /** Expected calibration error (10 equal-width bins). */
  readonly ece: number;
  /** Holdout rows the figures come from. */
  readonly rows: number;
}

export interface RetrainTrigger {
  /** Labelled outcomes that arrived since the champion was trained. */
  readonly newLabels: number;
  /** Whether a drift or performance alarm is firing for the model. */
  readonly alarmFiring: boolean;
}

/**
 * Whether the scheduled function should train a challenger now.
 * @example shouldRetrain({ newLabels: 4200, alarmFiring: false }, policy) // { retrain: true, reason: '4200 new labels ≥ 1000' }
 */
export function shouldRetrain(trigger: RetrainTrigger, policy: RetrainPolicy): { retrain: boolean; reason: string } {
  if (trigger.newLabels < policy.minNewLabels) {
    return { retrain: false, reason: `${trigger.newLabels} new labels < ${policy.minNewLabels} needed` };
  }
  if (policy.onlyOnAlarm && !trigger.alarmFiring) {
    return { retrain: false, reason: `${trigger.newLabels} new labels, but no drift or performance alarm is firing (onlyOnAlarm)` };
  }
  return {
    retrain: true,
    reason: `${trigger.newLabels} new labels ≥ ${policy.minNewLabels}${policy.onlyOnAlarm ? ' and an alarm is firing' : ''}`,
  };
}

export interface PromotionDecision {
  readonly promote: boolean;
  /** One sentence, recorded in the registry history and in the challenger's manifest. */
  readonly reason: string;
  readonly metric: RetrainPolicy['metric'];
  readonly champion: number | null;
  readonly challenger: number;
  /** Challenger − champion on the metric; null without a champion. */
  readonly gain: number | null;
  /** The gain required. */
  readonly requiredGain: number | null;
  readonly eceIncrease: number | null;
}

const f4 = (x: number) => x.toFixed(4);
const money = (x: number) => x.toFixed(2);

/**
 * Champion/challenger rule: promote only when the challenger beats the champion by the policy's
 * margin on the chosen metric AND is not worse on calibration (ECE) beyond the tolerance. With no
 * champion yet, a challenger with a finite metric is promoted.
 */
export function compareChallenger(champion: ModelEvaluation | null, challenger: ModelEvaluation, policy: RetrainPolicy): PromotionDecision {
  const metric = policy.metric;
  const value = (e: ModelEvaluation) => (metric === 'auc' ? e.auc : e.expectedProfit);
  const show = metric === 'auc' ? f4 : money;
  const label = metric === 'auc' ? 'AUC' : 'holdout profit';
  const challengerValue = value(challenger);
  if (!Number.isFinite(challengerValue)) {
    return { promote: false, reason: `challenger has no ${label} on the holdout`, metric, champion: champion ? value(champion) : null, challenger: challengerValue, gain: null, requiredGain: null, eceIncrease: null };
  }
  if (!champion) {
    return { promote: true, reason: `no champion yet; challenger ${label} ${show(challengerValue)}`, metric, champion: null, challenger: challengerValue, gain: null, requiredGain: null, eceIncrease: null };
  }
  const championValue = value(champion);
  const gain = challengerValue - championValue;
  const requiredGain = metric === 'auc' ? policy.minAucGain : policy.minProfitGain * Math.abs(championValue);
  const eceIncrease = challenger.ece - champion.ece;
  const base = { metric, champion: championValue, challenger: challengerValue, gain, requiredGain, eceIncrease };
  const comparison = `${label} ${show(challengerValue)} vs ${show(championValue)} (gain ${show(gain)}, needed ${show(requiredGain)})`;
  const calibration = `ECE ${f4(challenger.ece)} vs ${f4(champion.ece)}`;
  if (!(gain >= requiredGain) || (Number.isFinite(championValue) && gain <= 0)) {
    return { ...base, promote: false, reason: `refused: ${comparison}` };
  }
  if (eceIncrease > policy.maxEceIncrease) {
    return { ...base, promote: false, reason: `refused: worse calibration, ${calibration} (tolerance ${policy.maxEceIncrease}); ${comparison}` };
  }
  return { ...base, promote: true, reason: `better: ${comparison}; ${calibration}` };
}
