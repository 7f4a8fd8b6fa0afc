"""The peer side of `bench/volume.bench.ts`: torchvision's r3d_18 (video ResNet-18, 3-D convolutions) with one
input channel at 64³, exported to ONNX for candor, and the same explanation methods timed with Captum 0.8 and
pytorch-grad-cam (their sources: CAPTUM=dir holding captum/, PYTORCH_GRAD_CAM=dir holding pytorch_grad_cam/) on
PyTorch's CPU kernels, as a skilled user would run them: torch.set_num_threads(THREADS), eval mode, no_grad where
the method allows, internal batching options set (IG internal_batch_size, NoiseTunnel nt_samples_batch_size,
Occlusion perturbations_per_eval).

  /usr/bin/python3 bench/volume_peer.py export OUT.onnx
  CAPTUM=/tmp/captum PYTORCH_GRAD_CAM=/tmp/pgc /usr/bin/python3 bench/volume_peer.py time THREADS N  → JSON on stdout
"""
import json
import os
import sys
import time
import types

import torch
import torchvision

SIZE = 64
CLASSES = 2


def model():
    torch.manual_seed(0)
    m = torchvision.models.video.r3d_18(num_classes=CLASSES)
    # one input channel (CT/MRI): the stem's first convolution takes 1 channel instead of 3
    m.stem[0] = torch.nn.Conv3d(1, 64, kernel_size=(3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3), bias=False)
    return m.eval()


def inputs(n):
    g = torch.Generator().manual_seed(2)
    return torch.rand((n, 1, SIZE, SIZE, SIZE), generator=g) * 2 - 1


METHODS = ["forward", "saliency", "ig_zeros_gausslegendre_16", "smoothgrad_8", "gradcam", "gradcampp", "occlusion_16_16"]


def time_all(threads, n):
    sys.modules.setdefault("ttach", types.ModuleType("ttach"))
    sys.modules["ttach"].Compose = sys.modules["ttach"].HorizontalFlip = sys.modules["ttach"].Multiply = lambda *a, **k: None
    sys.path.insert(0, os.environ["CAPTUM"])
    sys.path.insert(0, os.environ["PYTORCH_GRAD_CAM"])
    from captum.attr import IntegratedGradients, NoiseTunnel, Occlusion, Saliency
    from pytorch_grad_cam import GradCAM, GradCAMPlusPlus
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    torch.set_num_threads(threads)
    m = model()
    x = inputs(n)
    tg = [1] * n
    cams = {"gradcam": GradCAM, "gradcampp": GradCAMPlusPlus}

    def run(name):
        if name == "forward":
            with torch.no_grad():
                m(x)
        elif name == "saliency":
            Saliency(m).attribute(x, target=tg)
        elif name == "ig_zeros_gausslegendre_16":
            IntegratedGradients(m).attribute(x, baselines=0.0, target=tg, n_steps=16, method="gausslegendre", internal_batch_size=8)
        elif name == "smoothgrad_8":
            NoiseTunnel(Saliency(m)).attribute(x, nt_type="smoothgrad", nt_samples=8, nt_samples_batch_size=8, stdevs=0.15, target=tg)
        elif name in cams:
            with cams[name](model=m, target_layers=[m.layer4]) as cam:
                cam(input_tensor=x, targets=[ClassifierOutputTarget(t) for t in tg])
        elif name == "occlusion_16_16":
            Occlusion(m).attribute(x, sliding_window_shapes=(1, 16, 16, 16), strides=(1, 16, 16, 16), baselines=0.0, target=tg,
                                   perturbations_per_eval=8)

    out = {}
    for name in METHODS:
        try:
            run(name)  # warm-up
        except Exception as e:  # pytorch-grad-cam's GradCAM++ sums over axes (2, 3) only: it fails on 5-D activations
            out[name] = f"fails: {type(e).__name__}: {str(e).splitlines()[0][:120]}"
            continue
        best = float("inf")
        for _ in range(2 if name in ("ig_zeros_gausslegendre_16", "occlusion_16_16", "smoothgrad_8") else 3):
            t0 = time.perf_counter()
            run(name)
            best = min(best, time.perf_counter() - t0)
        out[name] = 1000 * best / n
    return out


if __name__ == "__main__":
    if sys.argv[1] == "export":
        m = model()
        torch.onnx.export(m, inputs(1), sys.argv[2], opset_version=17, input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    else:
        print(json.dumps({"torch": torch.__version__, "threads": int(sys.argv[2]), "n": int(sys.argv[3]),
                          "ms_per_volume": time_all(int(sys.argv[2]), int(sys.argv[3]))}))
