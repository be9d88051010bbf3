#!/usr/bin/python3
"""Five more splits for the quality bench: K stratified folds of the bench's 80 % training part, and
the peer baselines measured on each.

The training part is the one exportSplits.py leaves (every row not in `<name>.json`'s testIndices).
Its rows, in file order, are cut by StratifiedKFold(K, shuffle=True, random_state=1); for each fold,
the four baseline pipelines of ../../../../shared/bench/quality_baselines.py (its own `preprocessor`
and `models`, imported, so they cannot drift) are fitted on the other folds and scored on it. The
bench's 20 % test rows are used by no fold. With `--score-on test-split` each pipeline still learns from
the other folds, but is scored on the bench's 20 % test rows instead of the fold: the same learners on
the rows RESULTS.md uses, so that split's own draw can be told apart from the size of the training set.

Prints JSON: { folds: [{ positions: [...], baselines: { model: { roc_auc | roc_auc_ovr_macro, accuracy } } }] },
`positions` being 0-based indices into the training part (file order, header excluded).

usage: /usr/bin/python3 crossValidationBaselines.py NAME [--folds 5] [--score-on fold|test-split] [--datasets DIR] [--shared-bench DIR]
"""
import argparse
import json
import os
import sys
import warnings

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline

HERE = os.path.dirname(os.path.abspath(__file__))
# Bench dataset name -> the entry of quality_baselines.DATASETS it is compared with.
ENTRY = {'audiobooks': 'audiobooks', 'bank-marketing': 'bank-marketing (no duration)',
         'ecommerce-churn': 'ecommerce-churn', 'segmentation': 'segmentation'}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('name', choices=sorted(ENTRY))
    ap.add_argument('--folds', type=int, default=5)
    ap.add_argument('--score-on', choices=['fold', 'test-split'], default='fold')
    ap.add_argument('--datasets', default=os.path.normpath(os.path.join(HERE, '..', '..', '..', '..', 'shared', 'datasets')))
    ap.add_argument('--shared-bench', default=os.path.normpath(os.path.join(HERE, '..', '..', '..', '..', 'shared', 'bench')))
    a = ap.parse_args()
    sys.path.insert(0, a.shared_bench)
    import quality_baselines as qb  # noqa: E402  (the peer's own definitions)

    cfg = next(c for c in qb.DATASETS if c['name'] == ENTRY[a.name])
    df = pd.read_csv(os.path.join(a.datasets, cfg['file']), **cfg['read'])
    target = next(t for t in cfg['target'] if t in df.columns)
    y_raw = df[target]
    X = df.drop(columns=[target] + [c for c in cfg['drop'] if c in df.columns])
    if cfg['positive'] is not None:
        y = (y_raw == cfg['positive']).astype(int).to_numpy()
    else:
        classes = sorted(y_raw.unique())
        y = y_raw.map({c: i for i, c in enumerate(classes)}).to_numpy()

    test = set(json.load(open(os.path.join(HERE, f'{a.name}.json')))['testIndices'])
    train_rows = np.array([i for i in range(len(df)) if i not in test])
    test_rows = np.array(sorted(test))
    X_tr, y_tr = X.iloc[train_rows].reset_index(drop=True), y[train_rows]
    folds = []
    for k, (fit, held) in enumerate(StratifiedKFold(a.folds, shuffle=True, random_state=1).split(np.zeros(len(y_tr)), y_tr)):
        baselines = {}
        for name, model in qb.models().items():
            pre = qb.preprocessor(X)[0]
            pipe = Pipeline([('pre', pre), ('model', clone(model))])
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                pipe.fit(X_tr.iloc[fit], y_tr[fit])
                X_on, y_on = (X_tr.iloc[held], y_tr[held]) if a.score_on == 'fold' else (X.iloc[test_rows], y[test_rows])
                proba = pipe.predict_proba(X_on)
            m = qb.evaluate(y_on, proba, [str(c) for c in range(proba.shape[1])], 1 if cfg['positive'] is not None else None)
            baselines[name] = {key: m[key] for key in ('roc_auc', 'roc_auc_ovr_macro', 'accuracy') if key in m}
        folds.append({'positions': held.tolist(), 'baselines': baselines})
        print(f'fold {k + 1}/{a.folds}: ' + ', '.join(f"{n} {v.get('roc_auc', v.get('roc_auc_ovr_macro'))}" for n, v in baselines.items()), file=sys.stderr)
    json.dump({'dataset': a.name, 'entry': cfg['name'], 'scoreOn': a.score_on, 'trainRows': len(train_rows), 'folds': folds}, sys.stdout)


if __name__ == '__main__':
    main()
