"""Step 2: the same small CNN in PyTorch, in train mode (BatchNorm with batch statistics),
weighted cross-entropy; writes the loss, every parameter gradient and the BatchNorm running
statistics after one forward pass (momentum 0.1) to OUT/train_golden.npz.
Needs Debian's python3-torch; candor never runs Python."""
import sys
import numpy as np
import torch
from torch import nn

src, dst = sys.argv[1], sys.argv[2]
d = np.load(f"{src}/train_case.npz")
model = nn.Module()
model.features = nn.Sequential(
    nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
model.classifier = nn.Sequential(nn.Flatten(), nn.Identity(), nn.Linear(64 * 2 * 2, 64), nn.ReLU(), nn.Linear(64, 3))
state = {k: torch.from_numpy(d[k].copy()) for k in d.files if not k.startswith("__")}
missing, unexpected = model.load_state_dict(state, strict=False)
assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing), (missing, unexpected)
model.train()
x = torch.from_numpy(d["__input__"].copy())
y = torch.from_numpy(d["__labels__"].astype(np.int64))
w = torch.from_numpy(d["__class_weights__"].copy())
logits = model.classifier(model.features(x))
loss = nn.functional.cross_entropy(logits, y, weight=w)
loss.backward()
out = {"loss": loss.detach().numpy().reshape(1), "logits": logits.detach().numpy()}
for name, p in model.named_parameters():
    out["grad:" + name] = p.grad.numpy()
bn = model.features[1]
out["running_mean"] = bn.running_mean.numpy()
out["running_var"] = bn.running_var.numpy()
np.savez_compressed(f"{dst}/train_golden.npz", **out)
print("loss", float(loss))
