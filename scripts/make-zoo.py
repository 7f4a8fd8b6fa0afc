"""The model zoo: real torch.onnx.export files of the classifiers users bring, with float64 autograd goldens.

For each architecture (torchvision's own modules at small widths and resolutions, plus hand-written
timm-style transformers and a Keras-shaped channels-last net), this script
  1. builds the model with seeded random weights (zero-initialised heads, layer scales and norm
     statistics are re-drawn so that no path is trivially zero or identity), in eval mode;
  2. exports it with torch.onnx.export (the opset given per model, a dynamic batch axis unless said);
  3. runs a float64 copy of the same weights with PyTorch autograd on a batch of float32 images and
     writes, per model, <name>.npz with: input, seed (a random weighting of the logits), logits,
     grad_input (of sum(seed * logits), float64), grad_input_f32 (float32 autograd, for the kink rule),
     kink (1 where float64 autograd's own gradient moves by > 1e-4 relative when the input moves by a few
     float32 ulps: no float32 implementation can be checked there), and for one named module
     layer_activation / layer_grad (a forward hook's view of its output, float64), and `wgrad:<name>` the
     gradients of up to 8 parameters that keep their names in the export (the weights training needs).
Needs Debian's python3-torch and python3-torchvision (1.13 / 0.14); candor itself never runs Python.

    /usr/bin/python3 scripts/make-zoo.py                      # the committed zoo: src/autodiff/fixtures/zoo
    /usr/bin/python3 scripts/make-zoo.py --heldout OUT_DIR     # other configurations and seeds (not committed)
    /usr/bin/python3 scripts/make-zoo.py --bench OUT_DIR       # ViT-Ti/16 and Swin-T at 224×224 for npm run bench
"""
import argparse
import copy
import json
import os
from functools import partial

import numpy as np
import onnx
import torch
import torch.nn.functional as F
import torchvision
from torch import nn
from torchvision.models import convnext, densenet, efficientnet, mobilenetv3, regnet, resnet, shufflenetv2, squeezenet, swin_transformer, vision_transformer
from torchvision.models.googlenet import BasicConv2d, Inception


# ---------- hand-written models (timm-style attention, Keras-shaped, 3-D) ----------

class Attention(nn.Module):
    """timm's Attention: one qkv Linear, heads by reshape/permute, q·kᵀ·scale, softmax, ·v, proj."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, t, c = x.shape
        qkv = self.qkv(x).reshape(b, t, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attn = (q @ k.transpose(-2, -1)) * self.scale
        attn = attn.softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, t, c))


class Block(nn.Module):
    def __init__(self, dim, heads, act):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), act, nn.Linear(2 * dim, dim))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class DeiT(nn.Module):
    """DeiT: class and distillation tokens (plus optional register tokens), two heads averaged at inference."""

    def __init__(self, size=32, patch=8, dim=32, depth=2, heads=2, classes=3, registers=0, act=None):
        super().__init__()
        self.patch_embed = nn.Conv2d(3, dim, patch, patch)
        n = (size // patch) ** 2
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.dist_token = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.reg_token = nn.Parameter(torch.randn(1, registers, dim) * 0.02) if registers else None
        self.pos_embed = nn.Parameter(torch.randn(1, n + 2 + registers, dim) * 0.02)
        self.blocks = nn.Sequential(*[Block(dim, heads, act or nn.GELU()) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)
        self.head_dist = nn.Linear(dim, classes)

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        b = x.shape[0]
        toks = [self.cls_token.expand(b, -1, -1), self.dist_token.expand(b, -1, -1)]
        if self.reg_token is not None:
            toks.append(self.reg_token.expand(b, -1, -1))
        x = torch.cat(toks + [x], dim=1) + self.pos_embed
        x = self.norm(self.blocks(x))
        return (self.head(x[:, 0]) + self.head_dist(x[:, 1])) / 2


class KerasLike(nn.Module):
    """tf2onnx's shape of graph: NHWC input, Rescaling on NHWC, Transpose, convs, Dense with softmax."""

    def __init__(self, classes=3):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.conv2 = nn.Conv2d(8, 16, 1)
        self.dense = nn.Linear(16, classes)

    def forward(self, x):  # [N, H, W, 3]
        x = (x * (1 / 127.5) - 1).permute(0, 3, 1, 2)
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.relu6(self.conv2(F.relu(self.dw(x))))
        return torch.softmax(self.dense(x.mean(dim=(2, 3))), dim=1)


class Res3d(nn.Module):
    """A small 3-D ResNet-style CNN (as MONAI/torchvision video nets are built) for [N, 1, D, H, W] volumes."""

    def __init__(self, classes=2, w=8):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv3d(1, w, 3, stride=(1, 2, 2), padding=1, bias=False), nn.BatchNorm3d(w), nn.ReLU())
        self.pool = nn.MaxPool3d(3, stride=2, padding=1)
        self.conv1 = nn.Sequential(nn.Conv3d(w, w, 3, padding=1, bias=False), nn.BatchNorm3d(w), nn.ReLU())
        self.conv2 = nn.Sequential(nn.Conv3d(w, w, 3, padding=1, bias=False), nn.BatchNorm3d(w))
        self.layer2 = nn.Sequential(nn.Conv3d(w, 2 * w, 3, stride=2, padding=1), nn.InstanceNorm3d(2 * w, affine=True), nn.LeakyReLU(0.1))
        self.fc = nn.Linear(2 * w, classes)

    def forward(self, x):
        x = self.pool(self.stem(x))
        x = F.relu(x + self.conv2(self.conv1(x)))
        x = self.layer2(x)
        return self.fc(F.adaptive_avg_pool3d(x, 1).flatten(1))


class InceptionNet(nn.Module):
    """GoogLeNet's Inception modules (torchvision's own class) at small widths."""

    def __init__(self, classes=3):
        super().__init__()
        self.conv1 = BasicConv2d(3, 16, kernel_size=3, stride=2, padding=1)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception3a = Inception(16, 8, 8, 12, 4, 4, 4)
        self.inception3b = Inception(28, 12, 8, 16, 4, 8, 8)
        self.fc = nn.Linear(44, classes)

    def forward(self, x):
        x = self.maxpool1(self.conv1(x))
        x = self.inception3b(self.inception3a(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class SmallSqueeze(nn.Module):
    """SqueezeNet 1.1's layout (torchvision's Fire modules, final 1×1 conv classifier) at small widths."""

    def __init__(self, classes=3):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, stride=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, ceil_mode=True),
            squeezenet.Fire(16, 4, 8, 8), squeezenet.Fire(16, 4, 8, 8), nn.MaxPool2d(3, 2, ceil_mode=True),
            squeezenet.Fire(16, 8, 16, 16))
        self.classifier = nn.Sequential(nn.Dropout(0.5), nn.Conv2d(32, classes, 1), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d((1, 1)))

    def forward(self, x):
        return torch.flatten(self.classifier(self.features(x)), 1)


class SmallResNet50(nn.Module):
    """ResNet-50's Bottleneck blocks (torchvision's own class), one per stage, at 1/8 width."""

    def __init__(self, classes=3, w=8):
        super().__init__()
        self.conv1 = nn.Conv2d(3, w, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(w)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        layers, inp = [], w
        for i, planes in enumerate([w, 2 * w, 4 * w, 8 * w]):
            stride = 1 if i == 0 else 2
            down = nn.Sequential(nn.Conv2d(inp, planes * 4, 1, stride, bias=False), nn.BatchNorm2d(planes * 4))
            layers.append(nn.Sequential(resnet.Bottleneck(inp, planes, stride, down)))
            inp = planes * 4
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.fc = nn.Linear(inp, classes)

    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


# ---------- the zoo ----------

def zoo(heldout, bench=False):
    """name → (builder, input shape without batch, opset, layer for the layer gradient, dynamic batch)."""
    h = heldout
    cn = convnext.CNBlockConfig
    z = {
        "vit": (lambda: vision_transformer.VisionTransformer(image_size=48 if h else 32, patch_size=8, num_layers=3 if h else 2,
                                                           num_heads=4 if h else 2, hidden_dim=32, mlp_dim=48 if h else 64, num_classes=3),
                (3, 48, 48) if h else (3, 32, 32), 16 if h else 17, "encoder.layers.encoder_layer_1.ln_1", True),
        "deit": (lambda: DeiT(registers=2 if h else 0, act=nn.GELU(approximate="tanh") if h else None),
                 (3, 32, 32), 14 if h else 17, "blocks.1.norm1", True),
        "swin": (lambda: swin_transformer.SwinTransformer(patch_size=[4, 4], embed_dim=16, depths=[2, 2], num_heads=[2, 4],
                                                          window_size=[4, 4] if not h else [2, 2], stochastic_depth_prob=0.0, num_classes=3),
                 (3, 32, 32) if not h else (3, 40, 40), 17, "features.3", True),
        "convnext": (lambda: convnext.ConvNeXt([cn(16, 32, 1), cn(32, None, 2 if h else 1)], layer_scale=0.5, num_classes=3),
                     (3, 32, 32), 16 if h else 17, "features.3", True),
        "efficientnet": (lambda: efficientnet.EfficientNet(efficientnet._efficientnet_conf("efficientnet_b0", width_mult=0.25, depth_mult=0.25)[0],
                                                           dropout=0.2, num_classes=3),
                         (3, 32, 32), 13 if h else 17, "features.6", True),
        "regnet": (lambda: regnet.RegNet(regnet.BlockParams.from_init_params(depth=4, w_0=8, w_a=8, w_m=2, group_width=8, se_ratio=0.25 if h else None),
                                         num_classes=3),
                   (3, 32, 32), 17, "trunk_output", True),
        "shufflenet": (lambda: shufflenetv2.ShuffleNetV2([2, 2, 2] if h else [1, 1, 1], [8, 16, 32, 64, 128], num_classes=3),
                       (3, 32, 32), 17 if h else 13, "stage4", True),
        "squeezenet": (lambda: SmallSqueeze(), (3, 32, 32), 17, "features.6", True),
        "mobilenetv3": (lambda: mobilenetv3.MobileNetV3(*mobilenetv3._mobilenet_v3_conf("mobilenet_v3_small", width_mult=0.25), num_classes=3),
                        (3, 32, 32), 15 if h else 17, "features.8", True),
        "inception": (lambda: InceptionNet(), (3, 32, 32), 17, "inception3b", True),
        "resnet50": (lambda: SmallResNet50(), (3, 32, 32), 17, "layer4", not h),
        "densenet": (lambda: densenet.DenseNet(growth_rate=8, block_config=(2, 2), num_init_features=16, bn_size=2, num_classes=3),
                     (3, 32, 32), 14 if h else 17, "features.denseblock2", True),
        "res3d": (lambda: Res3d(), (1, 8, 16, 16), 17, "layer2", True),
        "keras_nhwc": (lambda: KerasLike(), (24, 24, 3), 13, "conv2", True),
        # Two-class transformers for the audit tests (the bundled data is binary).
        "vit_binary": (lambda: vision_transformer.VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=32,
                                                                    mlp_dim=64, num_classes=2), (3, 32, 32), 17, "encoder.layers.encoder_layer_1.ln_1", True),
        "swin_binary": (lambda: swin_transformer.SwinTransformer(patch_size=[4, 4], embed_dim=16, depths=[2, 2], num_heads=[2, 4], window_size=[4, 4],
                                                                 stochastic_depth_prob=0.0, num_classes=2), (3, 32, 32), 17, "features.3", True),
    }
    if bench:
        return {
            "vit_ti16_224": (lambda: vision_transformer.VisionTransformer(image_size=224, patch_size=16, num_layers=12, num_heads=3, hidden_dim=192,
                                                                          mlp_dim=768, num_classes=2), (3, 224, 224), 17, "encoder.layers.encoder_layer_11.ln_1", True),
            "swin_t_224": (lambda: swin_transformer.SwinTransformer(patch_size=[4, 4], embed_dim=96, depths=[2, 2, 6, 2], num_heads=[3, 6, 12, 24],
                                                                   window_size=[7, 7], stochastic_depth_prob=0.0, num_classes=2), (3, 224, 224), 17, "features.7", True),
        }
    if h:
        z["vit_b32_like"] = (lambda: vision_transformer.VisionTransformer(image_size=64, patch_size=16, num_layers=2, num_heads=2, hidden_dim=16,
                                                                          mlp_dim=32, num_classes=5), (3, 64, 64), 17, "encoder.layers.encoder_layer_1.ln_1", True)
        z["swin_3stage"] = (lambda: swin_transformer.SwinTransformer(patch_size=[2, 2], embed_dim=8, depths=[1, 1, 2], num_heads=[1, 2, 2], window_size=[4, 4],
                                                                    stochastic_depth_prob=0.0, num_classes=4), (3, 32, 32), 17, "features.5", True)
        z["mnasnet"] = (lambda: torchvision.models.mnasnet.MNASNet(0.25, num_classes=3), (3, 32, 32), 17, "layers.8", True)
    return z


def randomise(model, gen):
    """Re-draw what initialisers leave degenerate: zero heads, tiny layer scales, norm statistics and affines."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() >= 1 and torch.count_nonzero(p) == 0:
                p.copy_(torch.randn(p.shape, generator=gen) * (0.1 if p.dim() > 1 else 0.05))
            if name.endswith("layer_scale"):
                p.copy_(0.3 + 0.4 * torch.rand(p.shape, generator=gen))
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm3d)):
                m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
                m.running_var.copy_(0.5 + torch.rand(m.num_features, generator=gen))
            if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm3d, nn.LayerNorm, nn.GroupNorm, nn.InstanceNorm3d)) and getattr(m, "weight", None) is not None:
                m.weight.copy_(0.5 + torch.rand(m.weight.shape, generator=gen))
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)


def module(model, path):
    m = model
    for p in path.split("."):
        m = m[int(p)] if p.isdigit() else getattr(m, p)
    return m


def weight_grads(model, x, seed, names):
    """Gradients of sum(seed * logits) with respect to the named parameters (summed over the batch)."""
    params = dict(model.named_parameters())
    model.zero_grad()
    (model(x) * seed).sum().backward()
    return {f"wgrad:{n}": params[n].grad.detach().numpy().copy() for n in names if n in params}


def autograd(model, x, seed, layer):
    """Logits, input gradient of sum(seed * logits), and the layer's output and gradient (a forward hook)."""
    seen = {}

    def hook(_m, _i, out):
        out.retain_grad()
        seen["a"] = out

    hdl = module(model, layer).register_forward_hook(hook)
    xr = x.clone().requires_grad_(True)
    out = model(xr)
    (out * seed).sum().backward()
    hdl.remove()
    return out.detach(), xr.grad.detach(), seen["a"].detach(), seen["a"].grad.detach()


class KerasLogits(nn.Module):
    """The Keras-shaped model without its softmax: what candor explains (it reads a softmax head as logits)."""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x):
        x = (x * (1 / 127.5) - 1).permute(0, 3, 1, 2)
        m = self.m
        x = F.max_pool2d(F.relu(m.conv1(x)), 2)
        x = F.relu6(m.conv2(F.relu(m.dw(x))))
        return m.dense(x.mean(dim=(2, 3)))


def make(name, spec, out_dir, seed, batch):
    build, shape, opset, layer, dynamic = spec
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    model = build().eval()
    randomise(model, gen)
    if name.startswith("keras"):
        x = torch.rand((batch,) + shape, generator=gen) * 255
    else:
        x = torch.randn((batch,) + shape, generator=gen)
    path = os.path.join(out_dir, f"{name}.onnx")
    names = dict(input_names=["input"], output_names=["logits"])
    if dynamic:
        names["dynamic_axes"] = {"input": {0: "batch"}, "logits": {0: "batch"}}
    torch.onnx.export(model, x[:1] if not dynamic else x, path, opset_version=opset, **names)
    ref = KerasLogits(model) if name.startswith("keras") else model
    layer_ref = "m." + layer if name.startswith("keras") else layer
    m64 = copy.deepcopy(ref).double()
    m32 = copy.deepcopy(ref)
    with torch.no_grad():
        k = m64(x.double()).shape[1]
    s = torch.randn(batch, k, generator=gen).double()
    logits, grad, act, agrad = autograd(m64, x.double(), s, layer_ref)
    _, grad32, _, _ = autograd(m32, x, s.float(), layer_ref)
    # Kinks: float64 autograd's own gradient moves by > 1e-4 (relative) under a few-ulp input change.
    kink = np.zeros(batch, dtype=np.uint8)
    for i in range(batch):
        xi = x[i:i + 1].double()
        for _ in range(3):
            eps = torch.randn(xi.shape, generator=gen).double()
            _, gi, _, _ = autograd(m64, xi * (1 + 3e-7 * eps), s[i:i + 1], layer_ref)
            if (gi - grad[i:i + 1]).norm() > 1e-4 * grad[i:i + 1].norm():
                kink[i] = 1
    # Weight gradients of the parameters the export keeps under their own names (biases, norms, tokens,
    # embeddings; torch folds transposed Linear weights into new initializers), for training graphs.
    onnx_names = {i.name for i in onnx.load(path).graph.initializer}
    named = [n for n, _ in m64.named_parameters() if n in onnx_names]
    special = [n for n in named if any(w in n for w in ("token", "pos", "relative_position", "layer_scale"))][:3]
    kept = list(dict.fromkeys(named[:2] + special + named[-3:]))
    wg = weight_grads(m64, x.double(), s, kept)
    np.savez_compressed(os.path.join(out_dir, f"{name}.npz"), input=x.numpy(), seed=s.numpy(), logits=logits.numpy(),
                        grad_input=grad.numpy(), grad_input_f32=grad32.double().numpy(), kink=kink,
                        layer_activation=act.numpy(), layer_grad=agrad.numpy(), **wg)
    size = os.path.getsize(path)
    print(f"{name}: opset {opset}, input {list(x.shape)}, {size / 1e3:.0f} kB, kinks {int(kink.sum())}/{batch}, layer {layer} {list(act.shape)}")
    return {"file": f"{name}.onnx", "opset": opset, "layer": layer, "dynamic_batch": dynamic, "input": list(x.shape)}


def model_seed(specs, name, seed):
    """The seed a zoo model is built with: its place in the zoo, so that one model can be rebuilt alone."""
    return seed + 17 * list(specs).index(name)


def build(name, heldout=False, seed=0):
    """A zoo model rebuilt in PyTorch with the weights of its committed export (for reference scripts)."""
    specs = zoo(heldout)
    s = model_seed(specs, name, seed if not heldout else seed + 1000)
    torch.manual_seed(s)
    gen = torch.Generator().manual_seed(s + 1)
    model = specs[name][0]().eval()
    randomise(model, gen)
    return model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--heldout", metavar="DIR", help="write other configurations and seeds to DIR instead of the committed zoo")
    ap.add_argument("--bench", metavar="DIR", help="write full-size ViT-Ti/16 and Swin-T (224×224) to DIR for npm run bench (not committed)")
    ap.add_argument("--only", help="comma-separated names")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    out = a.bench or a.heldout or "src/autodiff/fixtures/zoo"
    seed = a.seed if not a.heldout else a.seed + 1000
    os.makedirs(out, exist_ok=True)
    specs = zoo(bool(a.heldout), bool(a.bench))
    only = a.only.split(",") if a.only else list(specs)
    index = {}
    for name in only:
        index[name] = make(name, specs[name], out, model_seed(specs, name, seed), 4)
    with open(os.path.join(out, "zoo.json"), "w") as f:
        json.dump(index, f, indent=1)


if __name__ == "__main__":
    main()
