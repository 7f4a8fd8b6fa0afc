/**
 * SVG → PDF for papers: the same SVG documents the report inlines and `candor explain` writes, drawn into a PDF
 * by PDFKit (maintained) through svg-to-pdfkit (its SVG reader: paths, groups, transforms, text, embedded PNG
 * tiles). Text stays text (searchable, selectable: a ToUnicode map is written), in the font candor ships
 * (assets/fonts/DejaVuSans.ttf, subset-embedded), whatever family the SVG names; image tiles stay raster at their
 * own resolution and are drawn nearest-neighbour when the SVG says `image-rendering: pixelated` (the PDF's
 * /Interpolate false, PDFKit's default). The page is the SVG's width × height in points (1 px = 1 pt).
 * Node only.
 */
import PDFDocument from 'pdfkit';
import SVGtoPDF from 'svg-to-pdfkit';
import { BUNDLED_FONT } from './rasterize.js';

const FONT = 'candor-sans';

/** The SVG root's size in px, from width/height or else the viewBox. */
export function svgSize(svg: string): { width: number; height: number } {
  const root = /<svg\b[^>]*>/.exec(svg)?.[0];
  if (!root) throw new Error('svgToPdf: the document has no <svg> element');
  const attr = (name: string) => new RegExp(`\\s${name}="([^"]+)"`).exec(root)?.[1];
  const px = (v: string | undefined) => (v !== undefined && /^[\d.]+(px)?$/.test(v) ? parseFloat(v) : NaN);
  let width = px(attr('width'));
  let height = px(attr('height'));
  const vb = attr('viewBox')?.trim().split(/[\s,]+/).map(Number);
  if (!(width > 0) && vb?.length === 4) width = vb[2]!;
  if (!(height > 0) && vb?.length === 4) height = vb[3]!;
  if (!(width > 0 && height > 0)) throw new Error('svgToPdf: the <svg> element gives no width and height (nor a viewBox)');
  return { width, height };
}

/** A one-page PDF of an SVG document. `title` goes into the PDF's metadata. */
export async function svgToPdf(svg: string, opts: { title?: string } = {}): Promise<Uint8Array> {
  const { width, height } = svgSize(svg);
  const doc = new PDFDocument({ size: [width, height], margin: 0, autoFirstPage: true, info: { Title: opts.title ?? 'candor figure', Producer: 'candor (PDFKit)', Creator: 'candor' } });
  doc.registerFont(FONT, BUNDLED_FONT);
  const chunks: Buffer[] = [];
  const done = new Promise<Uint8Array>((resolve, reject) => {
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
    doc.on('error', reject);
  });
  const warnings: string[] = [];
  SVGtoPDF(doc, svg, 0, 0, {
    width,
    height,
    assumePt: true,
    fontCallback: () => FONT,
    warningCallback: (w: string) => warnings.push(w),
  });
  doc.end();
  return done.then((bytes) => {
    // svg-to-pdfkit skips what it cannot draw and only warns: a figure missing parts is an error here.
    const serious = warnings.filter((w) => !/^(SVGElemText: .*font|SVGtoPDF: .*attribute)/i.test(w));
    if (serious.length) throw new Error(`svgToPdf: parts of the figure could not be drawn: ${serious.slice(0, 3).join('; ')}`);
    return bytes;
  });
}
