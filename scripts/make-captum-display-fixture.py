"""Reference display normalisation from Captum's own code (captum/attr/_utils/visualization.py,
_normalize_attr and _cumulative_sum_threshold), for src/viz/display-scale.test.ts.

Run with Debian's python3 (numpy, matplotlib, torch) and Captum's source on the path:
  cd /work/.mirror/pytorch+captum && git --git-dir=repo archive HEAD captum | tar -x -C /tmp/captum-src
  PYTHONPATH=/tmp/captum-src /usr/bin/python3 scripts/make-captum-display-fixture.py
Writes src/viz/fixtures/captum-normalize.json: heavy-tailed maps (float64) and Captum's normalised values
for sign 'all' (signed maps) and 'absolute_value' of m - min (unsigned maps), at outlier_perc 2 and 1.
"""
import json
import numpy as np
from captum.attr._utils.visualization import _normalize_attr

rng = np.random.default_rng(0)
cases = []
for i, (h, w) in enumerate([(8, 8), (16, 12), (5, 7)]):
    signed = rng.standard_t(2, size=(h, w)) * (1 + 10 * (rng.random((h, w)) < 0.03))
    unsigned = np.maximum(0, rng.standard_t(3, size=(h, w))) ** 2 + 0.25
    for outlier in (2, 1, 0):
        cases.append({
            'map': signed.ravel().tolist(), 'signed': True, 'clip': 100 - outlier,
            'expected': (0.5 + _normalize_attr(signed, 'all', outlier) / 2).ravel().tolist(),
        })
        cases.append({
            'map': unsigned.ravel().tolist(), 'signed': False, 'clip': 100 - outlier,
            'expected': _normalize_attr(unsigned - unsigned.min(), 'absolute_value', outlier).ravel().tolist(),
        })
with open('src/viz/fixtures/captum-normalize.json', 'w') as f:
    json.dump({'source': 'captum.attr._utils.visualization._normalize_attr', 'cases': cases}, f)
print(len(cases), 'cases')
