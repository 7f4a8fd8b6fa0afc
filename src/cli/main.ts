/** The `candor` command: dispatches to one module per subcommand. */
import { HelpRequest, UsageError } from './args.js';
import { candorVersion } from '../train/card.js';
import { DEVICES, parseDevice, type Device } from '../runtime/device.js';
import { setDevice } from '../runtime/node.js';
import { gradCommand } from './grad.js';
import { layersCommand } from './layers.js';
import { trainCommand } from './train.js';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<void>; about: string }> = {
  audit: { run: async (argv) => (await import('./audit.js')).auditCommand(argv), about: 'stress-test a model\'s explanations and write the report (candor-report/index.html)' },
  explain: { run: async (argv) => (await import('./explain.js')).explainCommand(argv), about: 'attribution maps (.npy), overlays and a side-by-side grid (PNG) for a batch of images' },
  grad: { run: gradCommand, about: 'logits, input gradient and a layer activation/gradient as .npy (engine check)' },
  layers: { run: layersCommand, about: "list a model's 4-D layers (names usable with --layer)" },
  metrics: { run: async (argv) => (await import('./metrics.js')).metricsCommand(argv), about: 'sensitivity, specificity, PPV/NPV with intervals; ROC/PR; AUROC with DeLong CI; thresholds; subgroups' },
  calibrate: { run: async (argv) => (await import('./calibrate.js')).calibrateCommand(argv), about: 'reliability diagrams, ECE/Brier/NLL; temperature, Platt, isotonic recalibration on a held-out split' },
  uncertainty: { run: async (argv) => (await import('./uncertainty.js')).uncertaintyCommand(argv), about: 'entropy, mutual information, variance (MC dropout, ensembles, TTA); risk–coverage; referral list' },
  conformal: { run: async (argv) => (await import('./conformal.js')).conformalCommand(argv), about: 'split conformal prediction sets (LAC/APS/RAPS, class-conditional) with coverage and set size' },
  shap: { run: async (argv) => (await import('./shap.js')).shapCommand(argv), about: 'SHAP values and plots (.npy, SVG, results.json) for a tabular model or trees trained on a CSV' },
  'synth-volumes': { run: async (argv) => (await import('./synth.js')).synthCommand(argv), about: 'seeded CT-like volumes with planted lung nodules and their masks (.npz, NIfTI): data for 3-D models' },
  serve: { run: async (argv) => (await import('./serve.js')).serveCommand(argv), about: 'the browser workbench on a local server (explanations and the randomization check in the browser)' },
  devices: { run: async (argv) => (await import('./devices.js')).devicesCommand(argv), about: "which nodes of the model's forward, gradient and training graphs run on --device webgpu|cuda, which on the CPU" },
  worker: { run: async (argv) => (await import('./worker.js')).workerCommand(argv), about: 'run the units of audits submitted with --queue redis://… (BullMQ), until stopped' },
  train: { run: trainCommand, about: 'train a classifier (baseline, random-label or shortcut) and save ONNX + card' },
};

/** Take `--device D` / `--device=D` out of a command's arguments. */
function takeDevice(argv: string[]): { device?: Device; rest: string[] } {
  const rest: string[] = [];
  let device: Device | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--device') {
      if (argv[i + 1] === undefined) throw new Error(`--device needs a value: ${DEVICES.join(', ')}`);
      device = parseDevice(argv[++i]!);
    } else if (a.startsWith('--device=')) device = parseDevice(a.slice('--device='.length));
    else rest.push(a);
  }
  return { device, rest };
}

function help(): string {
  const rows = Object.entries(COMMANDS).map(([k, v]) => `  ${k.padEnd(12)} ${v.about}`);
  return `usage: candor <command> [options]\n       candor --version\n\ncommands:\n${rows.join('\n')}\n\nEvery command takes --device ${DEVICES.join('|')} (default cpu): where onnxruntime runs its graphs.\nRun 'candor <command> --help' for a command's options.`;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(help());
    return 0;
  }
  if (cmd === '--version' || cmd === '-V' || cmd === 'version') {
    console.log(`candor ${candorVersion()} (node ${process.versions.node})`);
    return 0;
  }
  const c = COMMANDS[cmd];
  if (!c) {
    console.error(`candor: unknown command '${cmd}'\n\n${help()}`);
    return 2;
  }
  let args = rest;
  try {
    // --device applies to every command (every onnxruntime session of the process)
    const d = takeDevice(rest);
    args = d.rest;
    if (d.device) {
      setDevice(d.device);
      process.env.CANDOR_DEVICE = d.device; // the worker's unit processes
    }
  } catch (e) {
    console.error(`candor ${cmd}: ${(e as Error).message}`);
    return 2;
  }
  try {
    await c.run(args);
    return 0;
  } catch (e) {
    if (e instanceof HelpRequest) {
      console.log(e.usage);
      return 0;
    }
    if (e instanceof UsageError) {
      console.error(`candor ${cmd}: ${e.message}`);
      return 2;
    }
    console.error(`candor ${cmd}: ${(e as Error).message}`);
    if (process.env.CANDOR_DEBUG) console.error((e as Error).stack);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
