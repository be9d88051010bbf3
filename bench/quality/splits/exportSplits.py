#!/usr/bin/python3
"""Exports the quality-bench split once: the row indices scikit-learn puts in the 20 % test part.

Same definition as ../../../../shared/bench/quality_baselines.py:
train_test_split(X, y, test_size=0.2, stratify=y, random_state=42), y encoded as there
(binary: positive -> 1; multiclass: sorted labels -> 0..K-1). Indices are 0-based data rows
(header excluded), sorted. The split depends only on y, so dropping columns changes nothing.

usage: /usr/bin/python3 exportSplits.py [--datasets DIR]
"""
import argparse
import json
import os

import pandas as pd
from sklearn.model_selection import train_test_split

HERE = os.path.dirname(os.path.abspath(__file__))
AUDIOBOOKS_COLS = ['id', 'book_length_overall_min', 'book_length_avg_min', 'price_overall',
                   'price_avg', 'review', 'review_10_10', 'completion', 'minutes_listened',
                   'support_requests', 'last_visit_minus_purchase_days', 'target']
DATASETS = [
    dict(name='audiobooks', file='audiobooks/Audiobooks_data.csv',
         read=dict(header=None, names=AUDIOBOOKS_COLS), target='target', positive=1),
    dict(name='bank-marketing', file='bank-marketing/bank-full.csv', read=dict(sep=';'),
         target='y', positive='yes'),
    dict(name='ecommerce-churn', file='ecommerce-churn/E_Commerce_Dataset.csv', read={},
         target='Churn', positive=1),
    dict(name='segmentation', file='segmentation/Train.csv', read={},
         target='Segmentation', positive=None),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--datasets', default=os.path.normpath(os.path.join(HERE, '..', '..', '..', '..', 'shared', 'datasets')))
    a = ap.parse_args()
    for cfg in DATASETS:
        df = pd.read_csv(os.path.join(a.datasets, cfg['file']), **cfg['read'])
        y_raw = df[cfg['target']]
        if cfg['positive'] is not None:
            y = (y_raw == cfg['positive']).astype(int).to_numpy()
        else:
            classes = sorted(y_raw.unique())
            y = y_raw.map({c: i for i, c in enumerate(classes)}).to_numpy()
        _, X_te, _, _ = train_test_split(df, y, test_size=0.2, stratify=y, random_state=42)
        test = sorted(int(i) for i in X_te.index)
        out = {'dataset': cfg['name'], 'file': cfg['file'], 'rows': len(df),
               'definition': 'sklearn train_test_split(stratify=y, test_size=0.2, random_state=42)',
               'testIndices': test}
        with open(os.path.join(HERE, cfg['name'] + '.json'), 'w') as f:
            json.dump(out, f, separators=(',', ':'))
        print(cfg['name'], len(df), 'rows,', len(test), 'test')


if __name__ == '__main__':
    main()
