/**
 * Colormaps for attribution maps, reproducing matplotlib's 256-entry lookup tables (matplotlib 3.x):
 *
 *   - `jet` (the seeds' default), `bwr`, `rdbu_r`: matplotlib's LinearSegmentedColormaps, rebuilt here
 *     from the same anchor points (`_jet_data`, `_bwr_data`, the ColorBrewer `_RdBu_data` reversed)
 *     and sampled at i/255 exactly as `_create_lookup_table` does — exact to float rounding.
 *   - `viridis`, `inferno`, `turbo`: matplotlib's published ListedColormap tables (`_cm_listed.py`),
 *     stored as 16-bit hex (error ≤ 1/131070 per channel, far below 1/255).
 *   - `gray`: black → white.
 *
 * Lookup is matplotlib's: v ∈ [0,1] selects entry `min(255, floor(v·256))`; values below 0 / above 1
 * are clamped (matplotlib's default under/over colours are the end entries); NaN maps to entry 0.
 * `bwr` and `rdbu_r` are diverging (white / light grey at the centre) for signed maps.
 */

export const COLORMAP_NAMES = ['jet', 'turbo', 'viridis', 'inferno', 'gray', 'bwr', 'rdbu_r'] as const;
export type ColormapName = (typeof COLORMAP_NAMES)[number];
/** The diverging colormap used for signed maps unless another is asked for. */
export const DEFAULT_DIVERGING: ColormapName = 'rdbu_r';
export const DEFAULT_SEQUENTIAL: ColormapName = 'jet';

export interface Colormap {
  name: ColormapName;
  /** 256 RGB entries in 0..1, interleaved (r,g,b, r,g,b, …). */
  lut: Float32Array;
  /** Whether the map is diverging (meant for signed data centred at 0.5 ↔ value 0). */
  diverging: boolean;
}

const N = 256;

type Anchors = readonly (readonly [number, number])[];

/** matplotlib `_create_lookup_table` for continuous anchors: linear interpolation sampled at i/(N−1). */
function segmentLut(r: Anchors, g: Anchors, b: Anchors): Float32Array {
  const lut = new Float32Array(N * 3);
  [r, g, b].forEach((a, c) => {
    for (let i = 0; i < N; i++) {
      const x = i / (N - 1);
      let k = 1;
      while (k < a.length - 1 && a[k]![0] < x) k++;
      const [x0, y0] = a[k - 1]!;
      const [x1, y1] = a[k]!;
      const t = x1 === x0 ? 0 : (x - x0) / (x1 - x0);
      lut[i * 3 + c] = y0 + (y1 - y0) * Math.min(1, Math.max(0, t));
    }
  });
  return lut;
}

/** Evenly spaced colours (`LinearSegmentedColormap.from_list`). */
function listLut(hex: readonly string[]): Float32Array {
  const cols = hex.map((h) => [0, 2, 4].map((o) => parseInt(h.slice(o, o + 2), 16) / 255));
  const pos = hex.map((_, i) => i / (hex.length - 1));
  const ch = (c: number): Anchors => cols.map((col, i) => [pos[i]!, col[c]!] as const);
  return segmentLut(ch(0), ch(1), ch(2));
}

function hexLut(s: string): Float32Array {
  if (s.length !== N * 12) throw new Error(`colormap table has ${s.length / 12} entries, expected ${N}`);
  const lut = new Float32Array(N * 3);
  for (let i = 0; i < N * 3; i++) lut[i] = parseInt(s.slice(i * 4, i * 4 + 4), 16) / 65535;
  return lut;
}

// matplotlib `_jet_data`
const JET: [Anchors, Anchors, Anchors] = [
  [[0, 0], [0.35, 0], [0.66, 1], [0.89, 1], [1, 0.5]],
  [[0, 0], [0.125, 0], [0.375, 1], [0.64, 1], [0.91, 0], [1, 0]],
  [[0, 0.5], [0.11, 1], [0.34, 1], [0.65, 0], [1, 0]],
];
// matplotlib `_bwr_data`
const BWR: [Anchors, Anchors, Anchors] = [
  [[0, 0], [0.5, 1], [1, 1]],
  [[0, 0], [0.5, 1], [1, 0]],
  [[0, 1], [0.5, 1], [1, 0]],
];
// ColorBrewer RdBu (matplotlib `_RdBu_data`), reversed: blue (negative) → white → red (positive)
const RDBU_R = ['053061', '2166ac', '4393c3', '92c5de', 'd1e5f0', 'f7f7f7', 'fddbc7', 'f4a582', 'd6604d', 'b2182b', '67001f'];

// matplotlib `_viridis_data`, `_inferno_data`, `_turbo_data`: 256 × (r,g,b) as 16-bit hex
const VIRIDIS =
  '445a013f545444bd027555de451b03be57644574051b58e645c8068b5a64461808105bdd466309aa5d5246a90b4e5ec346ea0ce3602e47270e6b6195' +
  '475f0fe962f74791115e645447bf12cb65ac47e8143366ff480d1596684c482c16f469944846184f6ad6485c19a66c12486d1afb6d4948781c4d6e7a' +
  '487f1d9d6fa548811eeb70ca487f203771e8487721827301486b22cc7413485a2414751f4844255a7625482926a07724480a27e5781d47e72928790f' +
  '47bf2a6b79fb47922bac7ae147612ced7bbf472c2e2c7c9846f22f6b7d6946b430a87e35467331e57efa462d33217fb845e3345b8070459635958122' +
  '454536cd81ce44f1380482734499393a8312443e3a6f83ac43e03ba3843f437f3cd584cd431b3e06855542b53f3685d8424b4064865541e0419186cc' +
  '417242bd873f410243e787ac409045108815401c463888793fa6475e88d83f2f488289333eb649a589893e3c4ac689dc3dc14be68a2a3d464d058a74' +
  '3cc94e218abb3c4b4f3d8afe3bcd50578b3d3b4f516f8b7a3ad052868bb33a51539b8be939d254af8c1c395355c28c4d38d456d38c7a385557e38ca6' +
  '37d758f18ccf375959fe8cf536dc5b098d1a365f5c148d3c35e35d1d8d5d35685e258d7c34ee5f2b8d99347460318db433fc61358dcd338462388de6' +
  '330e633a8dfc3298643b8e123224653b8e2631b0663a8e39313e67388e4b30cd68358e5b305d69318e6b2fee6a2c8e792f806b278e872f146c218e93' +
  '2ea86d1a8e9f2e3e6e128ea92dd46f0a8eb32d6b70018ebc2d0470f88ec42c9d71ee8ecb2c3772e48ed12bd273d98ed62b6e74cd8eda2b0a75c18ede' +
  '2aa776b58ee02a4577a98ee229e3789c8ee22982798f8ee229217a818ee028c17b738edd28617c668ed928017d588ed427a27e498ece27437f3b8ec6' +
  '26e4802c8ebd2685811e8eb32627820f8ea725c983008e9a256c83f28e8b250f84e38e7b24b285d48e69245686c58e5523fa87b68e3f239f88a78e27' +
  '234589998e0e22eb8a8a8df222948b7b8dd4223d8c6c8db421e88d5d8d9221948e4f8d6d21438f408d4620f490328d1d20a891238cf1205f92148cc2' +
  '201a93068c901fd893f78c5c1f9b94e98c251f6395da8beb1f3096cc8bad1f0397bd8b6d1edd98af8b2a1ebe99a08ae31ea79a918a991e989b828a4b' +
  '1e929c7389fa1e969d6489a61ea49e55894e1ebe9f4588f21ee2a03688921f13a126882f1f50a21687c81f9aa305875c1ff1a3f586ed2057a4e4867a' +
  '20caa5d28603214ca6c0858821dca7ae8508227ba89c84842329a98983fc23e5aa75836f24afab6182de2588ac4c82492670ad3781af2765ae218111' +
  '2869af0b806e297aaff37fc62a98b0db7f1a2bc3b1c27e692cfbb2a97db42e3fb38e7cf92f8fb4737c3a30ebb5577b763252b63a7aae33c4b71b79e0' +
  '3541b7fc790e36c8b8dc7836385ab9ba775a39f5ba9876793b9abb7475933d47bc4f74a83efebd2873b740bebe0172c24286bed871c84456bfad70c9' +
  '462ec0826fc5480fc1546ebb49f6c2256dad4be6c2f56c994ddcc3c36b814fdac48f6a6351dfc55a694153eac623681955fcc6ea66ec5815c7af65ba' +
  '5a34c87364835c59c93463475e84c9f4620660b6cab160c062edcb6d5f75652acc275e25676cccde5cd069b4cd935b766c02ce465a166e54cef758b2' +
  '70accfa657497309d05255db756bd0fc546977d2d1a452f17a3dd24951757cadd2ec4ff47f22d38d4e6e819ad42a4ce48418d4c64b568699d55f49c2' +
  '891ed5f5482b8ba7d689468f8e34d71a44ef90c4d7a9434c9358d83541a495eed8be3ff99888d9453e4b9b25d9c93c999dc5da4a3ae4a067dac9392d' +
  'a30bdb453774a5b2dbbf35b9a85bdc3633fdab05dcab3240adb1dd1d3083b05edd8d2ec7b30cddfb2d0cb5bbde662b54b86bdece29a0bb1bdf3527f1' +
  'bdcbdf992649c07bdffc24aac32ae05c2316c5d9e0bb2190c887e118201acb33e1731eb9cddee1cd1d6ed087e2251c40d32ee27c1b31d5d3e2d21a47' +
  'd876e3271986db16e37a18f3ddb2e3cd1890e04ce4201862e2e2e472186ae574e4c318a9e803e514191fea8ee56519c8ed14e5b71aa4ef96e6081bae' +
  'f214e6591ce3f48ee6ab1e3ef702e6fe1fbaf972e7512156fbdee7a4230cfe45e7f924d9';
const INFERNO =
  '0060001f038d0095005304c100d800930635012a00de07ea018a013309df01f701920bfd027301f90e1e02fc0269103f039502e01265043d035d148d' +
  '04f603e016b905bf046718ea069a04f31b1e078905811d58088c06111f9709a506a321da0ad1073424220c0307c326710d38085028c50e7308d92b1d' +
  '0fb4095e2d7a10fb09db2fdd12490a513244139e0aba34af14fb0b18371d16600b68398d17ce0bab3bff19440be13e701ac40c0940e11c4c0c22434e' +
  '1ddd0c2e45b71f770c2b481821190c1b4a7122c20bff4cbe24730bd64efd26290ba4512c27e60b68534929a60b2655512b690ae157432d2e0a99591d' +
  '2ef50a535adf30bc0a105c87328209d55e16344709a25f8c360a097b60e937cb0960622e398a0952635c3b46095264743cff096065773eb6097c6666' +
  '406a09a76743421b09e0680f43ca0a2668ca45770a7a697747210ad86a1548c90b3f6aa64a6f0baf6b2b4c140c276ba54db60ca56c144f580d296c79' +
  '50f80db16cd452960e3e6d2754340ece6d7155d00f606db3576c0ff46dee5907108b6e225aa111226e4f5c3b11ba6e765dd412536e975f6d12ec6eb1' +
  '610613856ec6629e141e6ed6643614b86ee065ce15506ee5676515e86ee468fd16806edf6a9417176ed56c2c17ae6ec66dc318446eb26f5b18d96e9a' +
  '70f3196e6e7d728a1a026e5b74221a966e3575ba1b296e0a77521bbb6ddb78ea1c4d6da77a821cde6d6f7c1b1d6f6d327db31dff6cf17f4c1e906cab' +
  '80e41f1f6c61827d1faf6c128416203f6bbf85af20ce6b678748215e6b0b88e021ee6aaa8a79227d6a458c12230e69db8dab239e696d8f43242f68fa' +
  '90db24c16883927325536807940b25e6678795a3267a6702973a270e667998d027a465eb9a67283b65599bfc28d364c29d92296d64279f262a086387' +
  'a0ba2aa462e3a24d2b43623aa3df2be3618da5712c8560dca7012d2a6026a8902dd05f6caa1f2e795eaeabac2f245debad372fd25d25aec230835c5a' +
  'b04b31365b8cb1d231ed5ab9b35832a659e2b4dc33635908b65f34235829b7df34e65747b95e35ad5661badb36775578bc553745548bbdcd3818539a' +
  'bf4338ee52a6c0b639c851afc2273aa650b5c3953b884fb8c5013c6f4eb7c6693d5b4db4c7cf3e4a4cadc9323f3f4ba4ca9140384a98cbee4136498a' +
  'cd4742384879ce9c43404766cfee444c4650d13c455d4538d2874673441ed3ce478e4302d51148ae41e4d65049d340c4d78a4afd3fa2d8c14c2d3e7e' +
  'd9f34d613d59db214e9a3c31dc4b4fd83b09dd70511b39dfde91526338b3dfad53b03786e0c455023657e1d656583527e2e457b333f6e3ec591332c3' +
  'e4f05a78318fe5ef5be13059e6e95d4f2f22e7dd5ec12deae8cd60382cb0e9b761b32b75ea9c63322a38eb7c64b528faec57663c27bbed2c67c72679' +
  'edfc69562537eec76ae923f2ef8c6c8022acf04c6e1a2164f1076fb8201bf1bc71591ecff26b72fe1d82f31674a61c34f3ba76511ae3f45a77ff1991' +
  'f4f379b0183ef5887b6516e9f6167d1c1594f6a07ed6143ef723809312e8f7a182521194f81a84151041f88d85d90ef1f8fb87a00da7f963896a0c63' +
  'f9c58b360b2bfa228d0409fffa798ed408f1faca90a7080afb16927c074cfb5c945206b8fb9d962b0650fbd898060616fc0d99e3060bfc3d9bc10632' +
  'fc669da1068dfc8a9f83071ffca9a16707eafcc1a34c08f0fcd4a5330a36fce1a71b0babfce8a9050d3ffce9aaf10eeffce4acde10b5fcdaaecc128f' +
  'fcc9b0bb147afcb3b2ac1675fc97b49e187ffc75b6901a97fc4db8841cbbfc1fba791eecfbebbc6f2129fbb2be662372fb72c05e25c7fb2dc2562828' +
  'fae2c44f2a96fa92c6482d11fa3cc8412f98f9e1ca3b322ef981cc3534d2f91bce2e3785f8b1d0283a48f843d2213d1af7d1d4193ffef75bd61042f4' +
  'f6e2d80645fdf667d9f94919f5ebdbeb4c4af56eddda4f92f4f2dfc652f0f47ae1ae5664f405e39159f3f398e56e5d99f333e7456159f2dce9146531' +
  'f295eada6921f261ec956d26f246ee45713ff247efe97566f267f17e7997f2abf3067dcef314f47e8203f3a4f5e88632f45bf7448a55f538f8938e67' +
  'f638f9d59269f75bfb0d9653f89dfc3a9a26f9fcfd5f9de3fb74fe7da18afd04ff94a519';
const TURBO =
  '30a0125f3b6f31e0155942f1331618514a4d34431b45518535671e365898368121255f8637922410664e389a26f86cf2399929de73723a8f2cc079cc' +
  '3b7c2f9f80023c5e327c86133d3935558bfe3e0a382b91c53ed23afe97673f903dce9ce44046409ba23c40f24365a7704195462cac7e422f48f0b168' +
  '42c04bb1b62c43474e6fbacc43c5512bbf46443a53e3c39d44a65697c7ce45095949cbda45625bf8cfc245b35ea4d38445f9614dd722463863f3da9a' +
  '466c6695ddee46986935e11d46ba6bd2e42746d46e6ce70c46e37102e9cc46ea7396ec6846e87626eede46dc78b4f12f46c77b3ff35c46aa7dc7f564' +
  '4682804bf747465282ccf9054618854bfa9e45d187c8fc0e45648a47fd4244ce8cc9fe3644138f4efeee433491d5ff6a4235945fffae411696e9ffbb' +
  '3fdc9974ff933e889bffff383d1e9e8afead3b9ea115fdf43a0da39dfd0e386ba625fbfe36bda8aafac53503ab2df9663341adacf7e43179b028f63e' +
  '2faeb29ff4792de2b512f2962c17b77ff0962a50b9e8ee7d288fbc4aec4c26d8bea5ea05252bc0f9e7ab238cc345e53f21fec58ae2c32082c7c6e03a' +
  '1f1bc9f8dda51dcccc22db071c96ce41d8611b7dd055d5b71a83d25fd30919abd45dd05a18f6d64ecdac1867d834cb011801da0bc85a17c6dbd6c5bb' +
  '17b9dd93c32517dcdf42c09b1832e0e1be1e18bce270bbb0197ee3f0b9531a7ae55fb70a1bb0e6c3b4bb1d1ee81fb24e1ec1e973afc42099eac0ad1f' +
  '22a0ec05aa6124d7ed42a78b273aee77a4a029c7efa3a1a12c7cf0c69e8f2f56f1e09b6c3254f2f1983b3572f3f994fd38aff4f891b33c07f5ec8e5f' +
  '3f7bf6d78b034305f7b787a146a6f88d843b4a59f95980d24e1dfa1a7d6851effacf79fe55cdfb7a769759b5fc1973345da5fcac6fd7619bfd346c82' +
  '6593fdb06936698bfe1f65f46d83fe8262c07176fed95f9a7562ff225c847947ff5e59817d21ff8e569180edffb053b784aaffc450f38855ffca4e49' +
  '8becffc24bba8f6dffac494692d5ff8746f19622ff5444bb9952ff1242a89c62fec040b79f50fe603eeca21bfdef3d47a4c4fd6f3bcaa768fcdc3a75' +
  'aa0efc383944acb3fb823837af58faba374db1fbf9e13683b49df8f835d7b73cf7ff3549b9d8f6f634d6bc70f5de347dbf04f4b7343dc194f3823414' +
  'c41df23e33ffc6a1f0ed33fec91eef8f340fcb94ee243430ce02ecac3460d068eb29349dd2c5e99b34e5d518e8003537d761e65c3592d99fe4ad35f3' +
  'dbd2e2f43659ddf9e13236c3e013df66372ee220dd93379ae420dbb63803e610d9d2386be7f2d7e638cde9c5d5f43929eb87d3fb397ded39d1fb39c7' +
  'eed9cff63a07f067cdec3a39f1e3cbdc3a5ef34cc9c93a72f4a1c7b13a76f5e2c5953a65f70ec3753a40f824c1533a04f925bf2f39b1fa0ebd083944' +
  'fae0bae138bbfb9eb8ad381cfc48b666376cfce0b40b36adfd66b19d35dffddaaf1f3502fe3dac903417fe8fa9f23320fecea745321efefda48c3110' +
  'ff1ca1c62ff8ff2a9ef52ed7ff289c192dadff1699342c7bfef496472b43fec293532a04fe82905928c0fe328d582778fdd48a54262bfd67874e24dc' +
  'fcec8444238afc6381392238fbcc7e2f20e5fb277b251f92fa75781d1e40f9b675181cf1f8ea72161ba4f8126f1a1a5af72d6c231915f63c693217d5' +
  'f53f664a169bf437636b1568f3236096143df2035dcb131af0da5b0c1200efa5585a10f0ee6555b60febed1c53210ef1ebc9509c0e04ea6c4e280d25' +
  'e9054bc60c53e79549760b90e61c473a0adde49945120a39e30c42f3099ce17240db0903dfcc3ec90871de1a3cbf07e4dc5c3abd075cda9238c106da' +
  'd8bb36cd065ed6d934e005e7d4eb32f90575d2f0311b0508d0ea2f4304a2ced82d720440ccb92ba903e4ca8f29e7038dc858282c033cc615267902f0' +
  'c3c724cc02aac16c23270269bf042188022ebc921ff101f8ba131e6101c7b7871cd8019cb4f01b570176b24d19dc0156af9e1869013bace316fd0126' +
  'aa1b15990116a748143b010ba46912e40107a17d119501079e85104d010d9b820f0c011898720dd2012995560ca0013f922e0b74015b8efb0a50017b' +
  '8bbb093301a2886f081d01ce8517070e01ff81b3060702367e43050602727ac7040d02b3';

const cache = new Map<ColormapName, Colormap>();

function build(name: ColormapName): Float32Array {
  switch (name) {
    case 'jet':
      return segmentLut(...JET);
    case 'bwr':
      return segmentLut(...BWR);
    case 'rdbu_r':
      return listLut(RDBU_R);
    case 'viridis':
      return hexLut(VIRIDIS);
    case 'inferno':
      return hexLut(INFERNO);
    case 'turbo':
      return hexLut(TURBO);
    case 'gray':
      return segmentLut([[0, 0], [1, 1]], [[0, 0], [1, 1]], [[0, 0], [1, 1]]);
  }
}

/** A colormap by name (case-insensitive; 'rdbu' / 'RdBu_r' accepted for 'rdbu_r'). */
export function getColormap(name: string): Colormap {
  const key = name.toLowerCase() === 'rdbu' ? 'rdbu_r' : (name.toLowerCase() as ColormapName);
  if (!(COLORMAP_NAMES as readonly string[]).includes(key)) {
    throw new Error(`unknown colormap '${name}' (valid: ${COLORMAP_NAMES.join(', ')})`);
  }
  let c = cache.get(key);
  if (!c) {
    c = { name: key, lut: build(key), diverging: key === 'bwr' || key === 'rdbu_r' };
    cache.set(key, c);
  }
  return c;
}

/** Table index of a value in [0,1], as matplotlib's `Colormap.__call__` computes it. */
export function lutIndex(v: number): number {
  if (Number.isNaN(v)) return 0;
  return Math.min(N - 1, Math.max(0, Math.floor(v * N)));
}

/** The colour of v ∈ [0,1] as [r,g,b] in 0..1. */
export function colorAt(cmap: Colormap | string, v: number): [number, number, number] {
  const c = typeof cmap === 'string' ? getColormap(cmap) : cmap;
  const i = lutIndex(v) * 3;
  return [c.lut[i]!, c.lut[i + 1]!, c.lut[i + 2]!];
}

/** Colour every value (in [0,1]) of `values`: returns planar RGB, 3 planes of `values.length`. */
export function applyColormap(values: ArrayLike<number>, cmap: Colormap | string): Float32Array {
  const c = typeof cmap === 'string' ? getColormap(cmap) : cmap;
  const n = values.length;
  const out = new Float32Array(3 * n);
  for (let p = 0; p < n; p++) {
    const i = lutIndex(values[p]!) * 3;
    out[p] = c.lut[i]!;
    out[n + p] = c.lut[i + 1]!;
    out[2 * n + p] = c.lut[i + 2]!;
  }
  return out;
}

/** `#rrggbb` of v, rounded as matplotlib's `to_hex`. */
export function hexAt(cmap: Colormap | string, v: number): string {
  return '#' + colorAt(cmap, v).map((x) => Math.round(x * 255).toString(16).padStart(2, '0')).join('');
}
