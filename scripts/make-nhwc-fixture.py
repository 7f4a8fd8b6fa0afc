"""Channels-last (NHWC) classifiers as Keras/tf2onnx exports them, with PyTorch's gradients.

Keras models take [N, H, W, C] images; tf2onnx keeps that input and puts the Rescaling layer's
Mul/Add on the NHWC tensor before the Transpose to NCHW that ONNX's Conv needs; the last Dense layer
carries the activation (softmax, or sigmoid on one unit for a binary model). This script builds the
same shape of graph in PyTorch (so that autograd gives an independent reference) and writes to
src/runtime/fixtures/:
  nhwc_cnn.onnx (softmax over 2 classes) and nhwc_cnn_golden.npz: input (NHWC), logits (before the
    softmax), probabilities (the file's output), the gradient of the class-1 logit with respect to the
    NHWC input, and the last conv block's activation and gradient (NCHW, as the graph computes them);
  nhwc_binary.onnx (one sigmoid unit) and nhwc_binary_golden.npz: input, logit z, probability
    sigmoid(z), the gradient of z with respect to the input.
Needs Debian's python3-torch; candor never runs Python.
    python3 scripts/make-nhwc-fixture.py
"""
import numpy as np
import torch
from torch import nn

torch.manual_seed(0)


class KerasLike(nn.Module):
    def __init__(self, units, head):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.dense = nn.Linear(16, units)
        self.head = head
        self.act = None
        self.logits = None

    def forward(self, x):  # x: [N, H, W, 1]
        x = x * (1 / 127.5) - 1  # Keras Rescaling(1/127.5, offset=-1), on NHWC
        x = x.permute(0, 3, 1, 2)
        x = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
        a = torch.relu(self.conv2(x))
        if a.requires_grad:
            a.retain_grad()
        self.act = a
        self.logits = self.dense(a.mean(dim=(2, 3)))
        return self.head(self.logits)


x = torch.rand(2, 32, 32, 1) * 255
for name, units, head in [("nhwc_cnn", 2, lambda z: torch.softmax(z, dim=1)), ("nhwc_binary", 1, torch.sigmoid)]:
    model = KerasLike(units, head).eval()
    torch.onnx.export(model, x, f"src/runtime/fixtures/{name}.onnx", opset_version=13,
                      input_names=["input_1"], output_names=["dense"],
                      dynamic_axes={"input_1": {0: "N"}, "dense": {0: "N"}})
    xr = x.clone().requires_grad_(True)
    probs = model(xr)
    model.logits[:, units - 1].sum().backward()
    out = dict(input=x.numpy(), logits=model.logits.detach().numpy(), probabilities=probs.detach().numpy(),
               grad_input_class1=xr.grad.numpy())
    if units == 2:
        out.update(layer_activation=model.act.detach().numpy(), layer_grad_class1=model.act.grad.numpy())
    np.savez_compressed(f"src/runtime/fixtures/{name}_golden.npz", **out)
    print(name, "logits", model.logits.detach().numpy().ravel(), "probabilities", probs.detach().numpy().ravel())
