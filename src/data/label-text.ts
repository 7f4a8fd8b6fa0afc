/**
 * Label text as people type it: NFC-normalised, invisible characters (zero-width spaces and joiners, BOM,
 * soft hyphen) removed, trimmed; and the key under which two spellings are "the same label" — case,
 * accents and separators ignored — so that `Normal`, `NORMAL` and ` normal` or `pneumonia`/`pneumonía` are
 * caught as near-duplicates instead of becoming separate classes. Numbers in label and probability cells
 * are plain decimals only: `0x1`, `Infinity`, `1e999` and `1_000` are not numbers here.
 */
const INVISIBLE = /[\u200B-\u200D\u2060\uFEFF\u00AD]/g;

export function normalizeLabel(s: string): string {
  return s.normalize('NFC').replace(INVISIBLE, '').trim();
}

export function labelKey(s: string): string {
  return normalizeLabel(s).normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/[\s_-]+/g, ' ');
}

/** A plain decimal number (optional sign, digits, point, exponent), finite. */
const DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

export function decimal(s: string): number | undefined {
  const t = s.trim();
  if (!DECIMAL.test(t)) return undefined;
  const v = Number(t);
  return Number.isFinite(v) ? v : undefined;
}

/** Groups of distinct spellings that share a key, e.g. [['NORMAL', 'Normal']]. */
export function nearDuplicates(names: Iterable<string>): string[][] {
  const byKey = new Map<string, Set<string>>();
  for (const n of names) {
    const k = labelKey(n);
    if (!byKey.has(k)) byKey.set(k, new Set());
    byKey.get(k)!.add(n);
  }
  return [...byKey.values()].filter((s) => s.size > 1).map((s) => [...s].sort());
}
