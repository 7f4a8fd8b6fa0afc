/**
 * The transfer syntaxes candor knows: their names, which codec decodes their pixel data (see `codecs.ts`),
 * and, for the ones it cannot decode, the conversion command an error message suggests.
 */

export type Codec = 'native' | 'deflate' | 'encapsulated-raw' | 'rle' | 'jpeg-baseline' | 'jpeg-lossless' | 'jpeg2000' | 'unsupported';

interface TransferSyntax {
  name: string;
  codec: Codec;
  littleEndian: boolean;
  /** How to convert to an uncompressed syntax, for the error message. */
  hint?: string;
}

const GDCM = '`gdcmconv --raw in.dcm out.dcm`';
const DJPEG = `${GDCM} or dcmtk's \`dcmdjpeg in.dcm out.dcm\``;
export const TRANSFER_SYNTAXES: Record<string, TransferSyntax> = {
  '1.2.840.10008.1.2': { name: 'Implicit VR Little Endian', codec: 'native', littleEndian: true },
  '1.2.840.10008.1.2.1': { name: 'Explicit VR Little Endian', codec: 'native', littleEndian: true },
  '1.2.840.10008.1.2.1.98': { name: 'Encapsulated Uncompressed Explicit VR Little Endian', codec: 'encapsulated-raw', littleEndian: true },
  '1.2.840.10008.1.2.1.99': { name: 'Deflated Explicit VR Little Endian', codec: 'deflate', littleEndian: true },
  '1.2.840.10008.1.2.2': { name: 'Explicit VR Big Endian', codec: 'native', littleEndian: false },
  '1.2.840.10008.1.2.5': { name: 'RLE Lossless', codec: 'rle', littleEndian: true },
  '1.2.840.10008.1.2.4.50': { name: 'JPEG Baseline (Process 1)', codec: 'jpeg-baseline', littleEndian: true, hint: DJPEG },
  '1.2.840.10008.1.2.4.51': { name: 'JPEG Extended (Process 2 & 4)', codec: 'jpeg-baseline', littleEndian: true, hint: DJPEG },
  '1.2.840.10008.1.2.4.57': { name: 'JPEG Lossless, Non-Hierarchical (Process 14)', codec: 'jpeg-lossless', littleEndian: true },
  '1.2.840.10008.1.2.4.70': { name: 'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])', codec: 'jpeg-lossless', littleEndian: true },
  '1.2.840.10008.1.2.4.80': { name: 'JPEG-LS Lossless Image Compression', codec: 'unsupported', littleEndian: true, hint: `${GDCM} or dcmtk's \`dcmdjpls in.dcm out.dcm\`` },
  '1.2.840.10008.1.2.4.81': { name: 'JPEG-LS Lossy (Near-Lossless) Image Compression', codec: 'unsupported', littleEndian: true, hint: `${GDCM} or dcmtk's \`dcmdjpls in.dcm out.dcm\`` },
  '1.2.840.10008.1.2.4.90': { name: 'JPEG 2000 Image Compression (Lossless Only)', codec: 'jpeg2000', littleEndian: true },
  '1.2.840.10008.1.2.4.91': { name: 'JPEG 2000 Image Compression', codec: 'jpeg2000', littleEndian: true },
  '1.2.840.10008.1.2.4.92': { name: 'JPEG 2000 Part 2 Multi-component Image Compression (Lossless Only)', codec: 'unsupported', littleEndian: true, hint: GDCM },
  '1.2.840.10008.1.2.4.93': { name: 'JPEG 2000 Part 2 Multi-component Image Compression', codec: 'unsupported', littleEndian: true, hint: GDCM },
  '1.2.840.10008.1.2.4.201': { name: 'High-Throughput JPEG 2000 Image Compression (Lossless Only)', codec: 'unsupported', littleEndian: true, hint: GDCM },
  '1.2.840.10008.1.2.4.202': { name: 'High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)', codec: 'unsupported', littleEndian: true, hint: GDCM },
  '1.2.840.10008.1.2.4.203': { name: 'High-Throughput JPEG 2000 Image Compression', codec: 'unsupported', littleEndian: true, hint: GDCM },
  '1.2.840.10008.1.2.4.100': { name: 'MPEG2 Main Profile / Main Level', codec: 'unsupported', littleEndian: true },
  '1.2.840.10008.1.2.4.101': { name: 'MPEG2 Main Profile / High Level', codec: 'unsupported', littleEndian: true },
  '1.2.840.10008.1.2.4.102': { name: 'MPEG-4 AVC/H.264 High Profile / Level 4.1', codec: 'unsupported', littleEndian: true },
  '1.2.840.10008.1.2.4.103': { name: 'MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1', codec: 'unsupported', littleEndian: true },
  '1.2.840.10008.1.2.4.104': { name: 'MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video', codec: 'unsupported', littleEndian: true },
  '1.2.840.10008.1.2.4.105': { name: 'MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video', codec: 'unsupported', littleEndian: true },
  '1.2.840.10008.1.2.4.106': { name: 'MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2', codec: 'unsupported', littleEndian: true },
  '1.2.840.10008.1.2.4.107': { name: 'HEVC/H.265 Main Profile / Level 5.1', codec: 'unsupported', littleEndian: true },
  '1.2.840.10008.1.2.4.108': { name: 'HEVC/H.265 Main 10 Profile / Level 5.1', codec: 'unsupported', littleEndian: true },
  '1.2.840.10008.1.2.4.110': { name: 'JPEG XL Lossless', codec: 'unsupported', littleEndian: true },
  '1.2.840.10008.1.2.4.111': { name: 'JPEG XL JPEG Recompression', codec: 'unsupported', littleEndian: true },
  '1.2.840.10008.1.2.4.112': { name: 'JPEG XL', codec: 'unsupported', littleEndian: true },
};

/** Name of a transfer syntax UID (or 'unknown transfer syntax'). */
export function transferSyntaxName(uid: string): string {
  return TRANSFER_SYNTAXES[uid]?.name ?? 'unknown transfer syntax';
}

/** Transfer syntax UIDs whose pixel data candor decodes (JPEG 2000 only through the async {@link readDicom}). */
export const SUPPORTED_TRANSFER_SYNTAXES: readonly string[] = Object.entries(TRANSFER_SYNTAXES)
  .filter(([, t]) => t.codec !== 'unsupported')
  .map(([uid]) => uid);

export function unsupportedMessage(uid: string): string {
  const ts = TRANSFER_SYNTAXES[uid];
  const name = ts?.name ?? 'Unknown transfer syntax';
  const hint = ts?.hint ?? `${GDCM} or dcmtk's \`dcmconv +te in.dcm out.dcm\``;
  return `${name} (${uid}) is not supported; convert with ${hint}`;
}
