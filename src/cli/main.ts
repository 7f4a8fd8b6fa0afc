/** The `candor` command: dispatches to one module per subcommand. */
import { HelpRequest, UsageError } from './args.js';
import { candorVersion } from '../train/card.js';
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
  worker: { run: async (argv) => (await import('./worker.js')).workerCommand(argv), about: 'run the units of audits submitted with --queue redis://… (BullMQ), until stopped' },
  train: { run: trainCommand, about: 'train a classifier (baseline, random-label or shortcut) and save ONNX + card' },
};

function help(): string {
  const rows = Object.entries(COMMANDS).map(([k, v]) => `  ${k.padEnd(12)} ${v.about}`);
  return `usage: candor <command> [options]\n       candor --version\n\ncommands:\n${rows.join('\n')}\n\nRun 'candor <command> --help' for a command's options.`;
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
  try {
    await c.run(rest);
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
