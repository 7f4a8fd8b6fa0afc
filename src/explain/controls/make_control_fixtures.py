#!/usr/bin/env python3
"""Reference maps for candor's control "explanations" (src/explain/controls): Quantus 0.6's
"Control Var. Sobel Filter" — np.clip(scipy.ndimage.sobel(x_i), 0, 1) per image [C,H,W] (SciPy's default:
derivative along the last axis, smoothing along every other axis, channels included, 'reflect' borders),
then the mean over channels — on seeded inputs, 2-D [2,3,8,10] and 3-D [1,2,5,6,7].
Run: /usr/bin/python3 src/explain/controls/make_control_fixtures.py   (needs python3-scipy)
"""
import json
import os

import numpy as np
import scipy.ndimage

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(0)
out = {}
for name, shape in [('image', (2, 3, 8, 10)), ('volume', (1, 2, 5, 6, 7))]:
    x = rng.uniform(-1, 1, shape).astype(np.float32)
    maps = np.stack([np.clip(scipy.ndimage.sobel(x[i]), 0, 1).mean(axis=0) for i in range(shape[0])])
    out[name] = dict(shape=list(shape), x=x.reshape(-1).astype(float).tolist(), sobel=maps.reshape(-1).astype(float).tolist())
with open(os.path.join(HERE, 'control_fixtures.json'), 'w') as f:
    json.dump(out, f)
print({k: float(np.array(v['sobel']).mean()) for k, v in out.items()})
