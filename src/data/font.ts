/**
 * A tiny 5×7 bitmap font for burned-in text artifacts (the laterality markers "L"/"R", "AP"/"PA",
 * digits, a few letters), drawn by hand. Each glyph is 7 rows of 5 cells, '#' on.
 */

const GLYPHS: Readonly<Record<string, readonly string[]>> = {
  '0': ['.###.', '#...#', '#..##', '#.#.#', '##..#', '#...#', '.###.'],
  '1': ['..#..', '.##..', '..#..', '..#..', '..#..', '..#..', '.###.'],
  '2': ['.###.', '#...#', '....#', '...#.', '..#..', '.#...', '#####'],
  '3': ['####.', '....#', '....#', '.###.', '....#', '....#', '####.'],
  '4': ['...#.', '..##.', '.#.#.', '#..#.', '#####', '...#.', '...#.'],
  '5': ['#####', '#....', '####.', '....#', '....#', '#...#', '.###.'],
  '6': ['.###.', '#....', '#....', '####.', '#...#', '#...#', '.###.'],
  '7': ['#####', '....#', '...#.', '..#..', '.#...', '.#...', '.#...'],
  '8': ['.###.', '#...#', '#...#', '.###.', '#...#', '#...#', '.###.'],
  '9': ['.###.', '#...#', '#...#', '.####', '....#', '....#', '.###.'],
  A: ['.###.', '#...#', '#...#', '#####', '#...#', '#...#', '#...#'],
  C: ['.###.', '#...#', '#....', '#....', '#....', '#...#', '.###.'],
  D: ['####.', '#...#', '#...#', '#...#', '#...#', '#...#', '####.'],
  E: ['#####', '#....', '#....', '####.', '#....', '#....', '#####'],
  I: ['.###.', '..#..', '..#..', '..#..', '..#..', '..#..', '.###.'],
  L: ['#....', '#....', '#....', '#....', '#....', '#....', '#####'],
  M: ['#...#', '##.##', '#.#.#', '#.#.#', '#...#', '#...#', '#...#'],
  N: ['#...#', '##..#', '#.#.#', '#..##', '#...#', '#...#', '#...#'],
  P: ['####.', '#...#', '#...#', '####.', '#....', '#....', '#....'],
  R: ['####.', '#...#', '#...#', '####.', '#.#..', '#..#.', '#...#'],
  S: ['.####', '#....', '#....', '.###.', '....#', '....#', '####.'],
  T: ['#####', '..#..', '..#..', '..#..', '..#..', '..#..', '..#..'],
  U: ['#...#', '#...#', '#...#', '#...#', '#...#', '#...#', '.###.'],
  X: ['#...#', '#...#', '.#.#.', '..#..', '.#.#.', '#...#', '#...#'],
  ' ': ['.....', '.....', '.....', '.....', '.....', '.....', '.....'],
  '-': ['.....', '.....', '.....', '#####', '.....', '.....', '.....'],
};

export const GLYPH_WIDTH = 5;
export const GLYPH_HEIGHT = 7;
/** Characters the font can draw. */
export const FONT_CHARS = Object.keys(GLYPHS).join('');

/**
 * Rasterise `text` (upper-cased) as a bitmap: each font cell becomes a `scale`×`scale` block, glyphs
 * separated by one blank cell. Returns the bitmap (1 = ink) and its size.
 */
export function renderText(text: string, scale = 1): { bits: Uint8Array; width: number; height: number } {
  if (!Number.isInteger(scale) || scale < 1) throw new Error(`renderText: scale must be a positive integer, got ${scale}`);
  const chars = [...text.toUpperCase()];
  if (chars.length === 0) throw new Error('renderText: empty text');
  for (const ch of chars) {
    if (!GLYPHS[ch]) throw new Error(`renderText: no glyph for '${ch}' (available: ${FONT_CHARS})`);
  }
  const cellsW = chars.length * (GLYPH_WIDTH + 1) - 1;
  const width = cellsW * scale;
  const height = GLYPH_HEIGHT * scale;
  const bits = new Uint8Array(width * height);
  chars.forEach((ch, k) => {
    const rows = GLYPHS[ch]!;
    for (let r = 0; r < GLYPH_HEIGHT; r++) {
      for (let c = 0; c < GLYPH_WIDTH; c++) {
        if (rows[r]![c] !== '#') continue;
        const x0 = (k * (GLYPH_WIDTH + 1) + c) * scale;
        for (let dy = 0; dy < scale; dy++) for (let dx = 0; dx < scale; dx++) bits[(r * scale + dy) * width + x0 + dx] = 1;
      }
    }
  });
  return { bits, width, height };
}
