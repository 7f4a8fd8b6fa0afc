/** Tiny DOM helpers for the workbench page (no framework). */

export function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`the page has no #${id}`);
  return e as T;
}

type Attrs = Record<string, string | number | boolean | undefined>;

/** Create an element; string children become text nodes (never parsed as HTML). */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === 'class') e.className = String(v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) e.append(c);
  return e;
}

export function options(select: HTMLSelectElement, items: readonly { value: string; label: string }[], selected?: string): void {
  select.replaceChildren(...items.map((i) => el('option', { value: i.value, selected: i.value === selected }, i.label)));
}

/** Save bytes as a file download (a blob: URL, nothing leaves the machine). */
export function download(bytes: Uint8Array | Blob, name: string, type = 'application/octet-stream'): void {
  const blob = bytes instanceof Blob ? bytes : new Blob([bytes as BlobPart], { type });
  const url = URL.createObjectURL(blob);
  const a = el('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A canvas holding RGBA pixels at their own resolution (CSS scales it, pixelated). */
export function pixelCanvas(rgba: Uint8ClampedArray, width: number, height: number): HTMLCanvasElement {
  const c = el('canvas', { width, height });
  c.getContext('2d')!.putImageData(new ImageData(rgba as Uint8ClampedArray<ArrayBuffer>, width, height), 0, 0);
  return c;
}
