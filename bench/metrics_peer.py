"""The peer side of `bench/metrics.bench.ts`: Quantus 0.6 (its source: QUANTUS=dir holding quantus/, with Captum in
CAPTUM for quantus.explain) timing its metrics on a tutorial-style small CNN (1×64×64, 2 classes, seeded weights) as a
skilled user would run them: torch.set_num_threads(THREADS), the batch of N images in one call (batch_size=N), the
plain gradient as the method, the same settings as candor's side.

  /usr/bin/python3 bench/metrics_peer.py export DIR          → DIR/cnn.onnx, DIR/x.npy, DIR/y.npy, DIR/a.npy
  QUANTUS=/tmp/quantus-src CAPTUM=/tmp/captum-src /usr/bin/python3 bench/metrics_peer.py time DIR THREADS  → JSON
"""
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

N = 16


def model():
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 8 * 8, 128), nn.ReLU(), nn.Linear(128, 2)).eval()


def gradient(model, inputs, targets, **_):
    xt = torch.tensor(np.asarray(inputs), dtype=torch.float32, requires_grad=True)
    out = model(xt)
    out[torch.arange(len(targets)), torch.as_tensor(np.asarray(targets), dtype=torch.long)].sum().backward()
    return xt.grad.detach().numpy()


def export(d):
    os.makedirs(d, exist_ok=True)
    m = model()
    torch.onnx.export(m, torch.zeros(1, 1, 64, 64), os.path.join(d, 'cnn.onnx'), input_names=['x'], output_names=['logits'],
                      dynamic_axes={'x': {0: 'batch'}, 'logits': {0: 'batch'}}, opset_version=13)
    g = torch.Generator().manual_seed(1)
    x = (torch.rand((N, 1, 64, 64), generator=g) * 2 - 1).numpy()
    with torch.no_grad():
        y = m(torch.from_numpy(x)).argmax(1).numpy()
    a = gradient(m, x, y)
    np.save(os.path.join(d, 'x.npy'), x)
    np.save(os.path.join(d, 'y.npy'), y.astype(np.int64))
    np.save(os.path.join(d, 'a.npy'), a)


def time_all(d, threads):
    sys.path.insert(0, os.environ['QUANTUS'])
    sys.path.insert(0, os.environ['CAPTUM'])
    import quantus
    torch.set_num_threads(threads)
    m = model()
    x, y, a = (np.load(os.path.join(d, f)) for f in ('x.npy', 'y.npy', 'a.npy'))
    kw = dict(model=m, x_batch=x, y_batch=y, a_batch=a, device='cpu', batch_size=N)
    ex = dict(explain_func=gradient)

    def pearson_rows(a, b, batched=True, **_):
        import scipy.stats
        return np.array([scipy.stats.pearsonr(aa, bb)[0] for aa, bb in zip(a, b)])

    quadrants = np.array([[1, 0, 0, 1]] * N)
    metrics = {
        'faithfulness_estimate': lambda: quantus.FaithfulnessEstimate(features_in_step=64, similarity_func=pearson_rows, disable_warnings=True)(**kw),
        'pixel_flipping': lambda: quantus.PixelFlipping(features_in_step=128, disable_warnings=True)(**kw),
        'region_perturbation': lambda: quantus.RegionPerturbation(patch_size=8, disable_warnings=True)(**kw),
        'selectivity': lambda: quantus.Selectivity(patch_size=8, disable_warnings=True)(**kw),
        'irof': lambda: quantus.IROF(disable_warnings=True)(**kw),
        'infidelity': lambda: quantus.Infidelity(perturb_patch_sizes=[8], n_perturb_samples=1, disable_warnings=True)(**kw),
        'monotonicity_correlation': lambda: quantus.MonotonicityCorrelation(features_in_step=256, nr_samples=5, disable_warnings=True)(**kw),
        'sensitivity_n': lambda: quantus.SensitivityN(features_in_step=128, similarity_func=pearson_rows, disable_warnings=True)(**kw),
        'non_sensitivity': lambda: quantus.NonSensitivity(features_in_step=64, disable_warnings=True)(**kw),
        'sufficiency': lambda: quantus.Sufficiency(disable_warnings=True)(**kw),
        'completeness': lambda: quantus.Completeness(disable_warnings=True)(**kw),
        'avg_sensitivity': lambda: quantus.AvgSensitivity(nr_samples=10, disable_warnings=True)(**kw, **ex),
        'max_sensitivity': lambda: quantus.MaxSensitivity(nr_samples=10, disable_warnings=True)(**kw, **ex),
        'local_lipschitz': lambda: quantus.LocalLipschitzEstimate(nr_samples=10, disable_warnings=True)(**kw, **ex),
        'continuity': lambda: quantus.Continuity(nr_steps=8, disable_warnings=True)(**kw, **ex),
        'consistency': lambda: quantus.Consistency(disable_warnings=True)(**kw),
        'relative_input_stability': lambda: quantus.RelativeInputStability(nr_samples=10, disable_warnings=True)(**kw, **ex),
        'relative_output_stability': lambda: quantus.RelativeOutputStability(nr_samples=10, disable_warnings=True)(**kw, **ex),
        'random_logit': lambda: quantus.RandomLogit(num_classes=2, disable_warnings=True)(**kw, **ex),
        'emprt': lambda: quantus.EfficientMPRT(disable_warnings=True)(**kw, **ex),
        'smprt': lambda: quantus.SmoothMPRT(nr_samples=5, disable_warnings=True)(**kw, explain_func=quantus.explain, explain_func_kwargs={'method': 'Gradient'}),
        'input_invariance': lambda: quantus.InputInvariance(disable_warnings=True)(**kw, **ex),
        'focus': lambda: quantus.Focus(disable_warnings=True)(**kw, custom_batch=quadrants),
        'sparseness': lambda: quantus.Sparseness(disable_warnings=True)(**kw),
        'complexity': lambda: quantus.Complexity(disable_warnings=True)(**kw),
        'effective_complexity': lambda: quantus.EffectiveComplexity(disable_warnings=True)(**kw),
    }
    out = {}
    for name, run in metrics.items():
        np.random.seed(0)
        t0 = time.perf_counter()
        try:
            run()
            out[name] = (time.perf_counter() - t0) * 1000
        except Exception as e:  # a peer failure is reported, not hidden
            out[name] = f'error: {type(e).__name__}: {e}'[:200]
        print(name, out[name], file=sys.stderr)
    print(json.dumps({'quantus': '0.6.0', 'torch': torch.__version__, 'threads': threads, 'n': N, 'ms_per_batch': out}))


if __name__ == '__main__':
    if sys.argv[1] == 'export':
        export(sys.argv[2])
    else:
        time_all(sys.argv[2], int(sys.argv[3]))
