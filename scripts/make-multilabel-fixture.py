"""A small multi-label fixture: data in ChestMNIST's layout and a PyTorch CNN with one sigmoid per label.

Data (src/data/fixtures/quadrants_multilabel.npz): 28×28 uint8 grayscale images of smooth noise; label k
(k = 0..3: top-left, top-right, bottom-left, bottom-right) is present when a bright disc is drawn in
quadrant k (each label independently with probability 0.35; 5 % of the labels flipped, so no model is
perfect). Splits train 600 / val 200 / test 200, keys as MedMNIST writes them (train_images [N, 28, 28],
train_labels [N, 4], …).

Model (src/runtime/fixtures/multilabel_cnn.onnx + .json card): a small CNN trained 8 epochs with
BCEWithLogitsLoss, exported by torch.onnx.export (opset 17) with its sigmoid head, as a chest X-ray
multi-label model is usually shipped. multilabel_cnn_golden.npz: PyTorch's float64 logits (before the
sigmoid) and the input gradient of each label's logit for the first 4 test images, for checking candor's
per-label gradients.

Needs Debian's python3-torch; candor itself never runs Python.
    /usr/bin/python3 scripts/make-multilabel-fixture.py
"""
import copy
import json

import numpy as np
import torch
from torch import nn

NAMES = ["top-left", "top-right", "bottom-left", "bottom-right"]
rng = np.random.default_rng(7)
torch.manual_seed(7)


def make_split(n):
    yy, xx = np.mgrid[0:28, 0:28]
    imgs = np.zeros((n, 28, 28), dtype=np.float64)
    labels = (rng.random((n, 4)) < 0.35).astype(np.uint8)
    for i in range(n):
        base = rng.normal(0, 1, (7, 7))
        img = np.kron(base, np.ones((4, 4))) * 0.08 + 0.35 + rng.normal(0, 0.04, (28, 28))
        for k in range(4):
            if labels[i, k]:
                cy = (0 if k < 2 else 14) + rng.integers(4, 10)
                cx = (0 if k % 2 == 0 else 14) + rng.integers(4, 10)
                img[(yy - cy) ** 2 + (xx - cx) ** 2 <= rng.integers(4, 10)] += 0.45
        imgs[i] = img
    flip = rng.random((n, 4)) < 0.05
    labels = np.where(flip, 1 - labels, labels).astype(np.uint8)
    return np.clip(imgs * 255, 0, 255).astype(np.uint8), labels


splits = {s: make_split(n) for s, n in [("train", 600), ("val", 200), ("test", 200)]}
np.savez_compressed("src/data/fixtures/quadrants_multilabel.npz",
                    **{f"{s}_{k}": v for s, (im, lb) in splits.items() for k, v in (("images", im), ("labels", lb))})


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(16, 16, 3, padding=1), nn.ReLU())
        self.classifier = nn.Linear(16 * 7 * 7, 4)

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def tensor(split):
    im, lb = splits[split]
    return torch.from_numpy(im).float().div(255).mul(2).sub(1).unsqueeze(1), torch.from_numpy(lb).float()


net = Net()
opt = torch.optim.Adam(net.parameters(), lr=3e-3)
x, y = tensor("train")
for epoch in range(8):
    perm = torch.randperm(len(x))
    for b in range(0, len(x), 32):
        idx = perm[b:b + 32]
        opt.zero_grad()
        nn.functional.binary_cross_entropy_with_logits(net(x[idx]), y[idx]).backward()
        opt.step()
net.eval()


class WithSigmoid(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x):
        return torch.sigmoid(self.m(x))


xt, yt = tensor("test")
torch.onnx.export(WithSigmoid(net), xt[:2], "src/runtime/fixtures/multilabel_cnn.onnx", opset_version=17,
                  input_names=["input"], output_names=["probabilities"], dynamic_axes={"input": {0: "N"}, "probabilities": {0: "N"}})
with open("src/runtime/fixtures/multilabel_cnn.json", "w") as f:
    json.dump({"architecture": "small multi-label CNN (scripts/make-multilabel-fixture.py)", "task": "multilabel",
               "input": {"channels": 1, "size": 28, "normalization": "[-1, 1]"}, "classes": NAMES}, f, indent=1)

m64 = copy.deepcopy(net).double()
xg = xt[:4].double().requires_grad_(True)
logits = m64(xg)
grads = []
for k in range(4):
    g, = torch.autograd.grad(logits[:, k].sum(), xg, retain_graph=True)
    grads.append(g.numpy())
np.savez_compressed("src/runtime/fixtures/multilabel_cnn_golden.npz", input=xt[:4].numpy(), logits=logits.detach().numpy(),
                    grad_input=np.stack(grads, axis=0))
with torch.no_grad():
    p = torch.sigmoid(net(xt)).numpy()
print("test AUROC per label (rank-based):", end=" ")
for k in range(4):
    pos, neg = p[yt[:, k] == 1, k], p[yt[:, k] == 0, k]
    print(f"{NAMES[k]} {(pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean():.3f}", end="  ")
print()
