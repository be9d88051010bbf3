import type { CalibrationBin, LiftRow } from './metrics.js';

/**
 * How a scoring run's probabilities did against outcomes the extract already carried (the spec's
 * target column present in the scored file): `summary.json` `labels`, and a section of both reports.
 * Absent when the extract has no target column. Every figure is computed on the probabilities as
 * scores.csv writes them (6 decimals), so a tool reading scores.csv gets the same figures.
 */
export interface LabelledEvaluation {
  /** The spec's target column, as found in the extract's header. */
  readonly column: string;
  readonly task: 'binary' | 'multiclass';
  /** Scored rows whose label cell named a known class. */
  readonly rows: number;
  /** Scored rows whose label cell was empty or not a class the model knows: left out of every figure here. */
  readonly unlabelled: number;
  /** Binary: rows labelled with the positive class. */
  readonly positives: number | null;
  /** Binary: ROC AUC of P(positive) as written in scores.csv; multiclass: macro one-vs-rest average. */
  readonly rocAuc: number;
  /** Binary: average precision (PR-AUC); null for multiclass. */
  readonly prAuc: number | null;
  readonly logLoss: number;
  /** Share of rows whose most likely class is the label (binary: at p ≥ 0.5). */
  readonly accuracy: number;
  /** Binary: P(positive) against the observed rate; multiclass: top-class confidence against accuracy. */
  readonly calibration: { readonly ece: number; readonly bins: readonly CalibrationBin[] };
  /** Binary: realized response rate and lift per score decile (1 = best). Null for multiclass. */
  readonly liftByDecile: readonly LiftRow[] | null;
  /**
   * Binary: what the selection (targets.csv), contacting everyone (not suppressed) and the best
   * selection this extract allows (see `campaign.best`) actually earned at the run's economics,
   * counted over their labelled rows only.
   */
  readonly realized: { readonly selection: RealizedFigures; readonly everyone: RealizedFigures; readonly best?: RealizedFigures } | null;
}

/** A contact set's figures counted from the labels, at the run's economics. */
export interface RealizedFigures {
  readonly contacted: number;
  readonly responders: number;
  readonly cost: number;
  readonly gain: number;
  readonly profit: number;
  /** (gain − cost) / cost; null when nothing was spent. */
  readonly roi: number | null;
}
