/**
 * Where onnxruntime runs candor's graphs: `--device cpu` (default), `webgpu` (onnxruntime-node's WebGPU
 * execution provider: Dawn over Vulkan, D3D12 or Metal) or `cuda` (onnxruntime's CUDA provider, whose
 * libraries the user installs: README "GPUs"). Nodes a provider does not take run on the CPU provider
 * (onnxruntime places them; `candor devices` lists them per graph). Errors name the missing part in one line.
 */
export const DEVICES = ['cpu', 'webgpu', 'cuda'] as const;
export type Device = (typeof DEVICES)[number];

export function parseDevice(s: string): Device {
  if ((DEVICES as readonly string[]).includes(s)) return s as Device;
  throw new Error(`--device must be one of ${DEVICES.join(', ')}, got '${s}'`);
}

/** onnxruntime execution providers for a device, in preference order (the CPU provider takes the rest). */
export function providersFor(device: Device): string[] {
  return device === 'cpu' ? ['cpu'] : [device, 'cpu'];
}

/** The one-line error for a session a device could not create, or undefined when the cause is elsewhere. */
export function deviceError(device: Device, message: string): string | undefined {
  if (device === 'webgpu' && /WebGPU adapter|No supported adapters|webgpu/i.test(message)) {
    return (
      '--device webgpu: no WebGPU adapter (Dawn found no usable Vulkan driver). With a GPU, install its Vulkan driver and libvulkan1; ' +
      'without one, a software driver works (slowly): VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json (Debian chromium ships SwiftShader) or Mesa lavapipe (mesa-vulkan-drivers)'
    );
  }
  if (device === 'cuda' && /Cuda|CUDA|providers_shared|providers_cuda|cudnn|cublas/i.test(message)) {
    return (
      "--device cuda: onnxruntime's CUDA provider is not usable here (" +
      (/providers_(shared|cuda)/.test(message) || /Failed to load shared library/.test(message) ? 'its libraries are not installed' : message.split('\n')[0]!.slice(0, 160)) +
      '): install them with ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js (needs the network), with CUDA 12 and cuDNN 9 on the library path'
    );
  }
  return undefined;
}
