"""Step 2: run torchvision's own models with PyTorch autograd on the weights candor wrote.

Usage: make-arch-golden.py IN OUT [ARCH ...]. Reads IN/<arch>.npz (weights by state_dict name, __input__, __seed__), writes
OUT/<arch>_golden.npz with logits, the input gradient of sum(seed * logits), and the
gradients of the weights listed in WEIGHTS. Needs Debian's python3-torch and
python3-torchvision (1.13 / 0.14); candor itself never runs Python.
"""
import sys
import numpy as np
import torch
import torchvision

WEIGHTS = {
    "resnet18": ["conv1.weight", "layer4.1.bn2.weight", "fc.weight"],
    "densenet121": ["features.conv0.weight", "features.denseblock3.denselayer5.conv1.weight", "features.norm5.bias"],
    "mobilenet_v2": ["features.0.0.weight", "features.5.conv.1.0.weight", "classifier.1.weight"],
    "r3d_18": ["stem.0.weight", "layer4.1.conv2.1.weight", "fc.weight"],
}

src, dst = sys.argv[1], sys.argv[2]
only = sys.argv[3:]  # optional: the architectures to (re)make
for arch, wanted in WEIGHTS.items():
    if only and arch not in only:
        continue
    data = np.load(f"{src}/{arch}.npz")
    family = torchvision.models.video if arch == "r3d_18" else torchvision.models
    model = getattr(family, arch)(num_classes=data["__seed__"].shape[1]).eval()
    state = {k: torch.from_numpy(data[k].copy()) for k in data.files if not k.startswith("__")}
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected, unexpected
    assert all(k.endswith("num_batches_tracked") for k in missing), missing
    x = torch.from_numpy(data["__input__"].copy()).requires_grad_(True)
    logits = model(x)
    (logits * torch.from_numpy(data["__seed__"].copy())).sum().backward()
    params = dict(model.named_parameters())
    out = {"logits": logits.detach().numpy(), "grad_input": x.grad.numpy()}
    for w in wanted:
        out["grad:" + w] = params[w].grad.numpy()
    np.savez_compressed(f"{dst}/{arch}_golden.npz", **out)
    print(arch, "logits", out["logits"].ravel()[:4])
