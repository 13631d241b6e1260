// The motion basis as cacheable parts: JSON metadata (boxes, lattices, field lists, flags) and named typed arrays,
// and back, checking every length against the metadata so that a stale or corrupt cache entry is refused.
import { BASIS_VERSION } from './basis.ts';
import { COEFFICIENT_NAMES } from './coefficients.ts';
import { SEAM_COLUMNS } from './geometry.ts';
import type { BasisField, Box, FeatureWindow, Lattice, MotionBasis } from './types.ts';

export const BASIS_ARRAYS = {
  headPose: 'f32',
  torsoPose: 'f32',
  face: 'f32',
  mouthSeam: 'f32',
  mouthSides: 'f32',
  mouthRegion: 'f32',
  mouthLayer: 'f32',
  mouthWindowMotion: 'f32',
  mouthWindowPose: 'f32',
  eyes: 'f32',
  eyeLid: 'f32',
  eyeLidTexture: 'u8',
  eyeWindowMotion: 'f32',
  eyeWindowPose: 'f32',
  lipSeam: 'f32',
  headAlpha: 'f32',
  torsoAlpha: 'f32',
  torsoColour: 'u8',
  plate: 'u8',
} as const;
export type BasisArrayName = keyof typeof BASIS_ARRAYS;

interface WindowMeta {
  readonly width: number;
  readonly height: number;
  readonly home: { readonly x: number; readonly y: number };
  readonly view: Box;
}

export interface BasisMeta {
  readonly version: number;
  readonly coefficientNames: readonly string[];
  readonly width: number;
  readonly height: number;
  readonly renderBox: Box;
  readonly poseFields: readonly BasisField[];
  readonly headLattice: Lattice;
  readonly torsoLattice: Lattice;
  readonly faceFields: readonly BasisField[];
  readonly faceLattice: Lattice;
  readonly mouthCrop: Box;
  readonly mouthWindow: WindowMeta;
  readonly eyeFields: readonly BasisField[];
  readonly eyeLattice: Lattice;
  readonly eyeWindow: WindowMeta;
  readonly teethVisible: boolean;
  readonly lipGap: number;
  readonly segmented: boolean;
}

export function basisToCache(b: MotionBasis): { meta: BasisMeta; arrays: Record<BasisArrayName, Float32Array | Uint8Array> } {
  const meta: BasisMeta = {
    version: b.version,
    coefficientNames: b.coefficientNames,
    width: b.width,
    height: b.height,
    renderBox: b.renderBox,
    poseFields: b.poseFields,
    headLattice: b.headLattice,
    torsoLattice: b.torsoLattice,
    faceFields: b.faceFields,
    faceLattice: b.faceLattice,
    mouthCrop: b.mouthCrop,
    mouthWindow: windowMeta(b.mouthWindow),
    eyeFields: b.eyeFields,
    eyeLattice: b.eyeLattice,
    eyeWindow: windowMeta(b.eyeWindow),
    teethVisible: b.teethVisible,
    lipGap: b.lipGap,
    segmented: b.segmented,
  };
  const extra: Record<string, Float32Array> = {
    mouthWindowMotion: b.mouthWindow.motion,
    mouthWindowPose: b.mouthWindow.pose,
    eyeWindowMotion: b.eyeWindow.motion,
    eyeWindowPose: b.eyeWindow.pose,
  };
  const arrays = Object.fromEntries(
    Object.keys(BASIS_ARRAYS).map((k) => [k, extra[k] ?? (b as unknown as Record<string, Float32Array | Uint8Array>)[k]!]),
  ) as Record<BasisArrayName, Float32Array | Uint8Array>;
  return { meta, arrays };
}

/** Expected element count of every array, from the metadata. */
export function basisArrayLengths(meta: BasisMeta): Record<BasisArrayName, number> {
  const plane = meta.width * meta.height;
  const h = meta.headLattice.cols * meta.headLattice.rows;
  const t = meta.torsoLattice.cols * meta.torsoLattice.rows;
  const f = meta.faceLattice.cols * meta.faceLattice.rows;
  const c = meta.mouthCrop.width * meta.mouthCrop.height;
  const mv = meta.mouthWindow.view.width * meta.mouthWindow.view.height;
  const ev = meta.eyeWindow.view.width * meta.eyeWindow.view.height;
  const e = meta.eyeLattice.cols * meta.eyeLattice.rows;
  return {
    headPose: meta.poseFields.length * h * 2,
    torsoPose: meta.poseFields.length * t * 2,
    face: meta.faceFields.length * 2 * f,
    mouthSeam: plane,
    mouthSides: meta.faceFields.length * 4 * c,
    mouthRegion: c,
    mouthLayer: c,
    mouthWindowMotion: meta.poseFields.length * 2,
    mouthWindowPose: meta.poseFields.length * mv * 2,
    eyes: meta.eyeFields.length * 2 * e,
    eyeLid: e,
    eyeLidTexture: e * 3,
    eyeWindowMotion: meta.poseFields.length * 2,
    eyeWindowPose: meta.poseFields.length * ev * 2,
    lipSeam: (SEAM_COLUMNS.length + 4) * 2,
    headAlpha: plane,
    torsoAlpha: plane,
    torsoColour: plane * 3,
    plate: plane * 3,
  };
}

/** Rebuilds a basis; throws when the metadata is not this version's or an array is missing or of the wrong size. */
export function basisFromCache(metaIn: unknown, get: (name: BasisArrayName, kind: 'u8' | 'f32', length: number) => Float32Array | Uint8Array): MotionBasis {
  const meta = metaIn as BasisMeta;
  if (!meta || typeof meta !== 'object' || meta.version !== BASIS_VERSION) throw new Error('basis of another version');
  if (meta.coefficientNames.length !== COEFFICIENT_NAMES.length || meta.coefficientNames.some((n, i) => n !== COEFFICIENT_NAMES[i])) {
    throw new Error('basis built for other coefficients');
  }
  for (const [name, box] of Object.entries({ renderBox: meta.renderBox, mouthCrop: meta.mouthCrop, mouthView: meta.mouthWindow?.view, eyeView: meta.eyeWindow?.view })) {
    if (!isBox(box, meta.width, meta.height)) throw new Error(`bad ${name}`);
  }
  for (const l of [meta.headLattice, meta.torsoLattice, meta.faceLattice, meta.eyeLattice]) {
    if (!l || !Number.isInteger(l.cols) || !Number.isInteger(l.rows) || l.cols < 2 || l.rows < 2) throw new Error('bad lattice');
  }
  const lengths = basisArrayLengths(meta);
  const arrays = Object.fromEntries(
    (Object.keys(BASIS_ARRAYS) as BasisArrayName[]).map((name) => {
      const a = get(name, BASIS_ARRAYS[name], lengths[name]);
      if (a.length !== lengths[name] || (BASIS_ARRAYS[name] === 'f32') !== a instanceof Float32Array) throw new Error(`array '${name}' has the wrong size or type`);
      return [name, a];
    }),
  ) as Record<BasisArrayName, Float32Array | Uint8Array>;
  const f32 = (n: BasisArrayName): Float32Array => arrays[n] as Float32Array;
  const u8 = (n: BasisArrayName): Uint8Array => arrays[n] as Uint8Array;
  return Object.freeze({
    version: BASIS_VERSION,
    coefficientNames: COEFFICIENT_NAMES,
    width: meta.width,
    height: meta.height,
    renderBox: Object.freeze({ ...meta.renderBox }),
    poseFields: Object.freeze(meta.poseFields.map((f) => Object.freeze({ coefficient: f.coefficient, side: f.side }))),
    headLattice: freezeLattice(meta.headLattice),
    torsoLattice: freezeLattice(meta.torsoLattice),
    headPose: f32('headPose'),
    torsoPose: f32('torsoPose'),
    faceFields: Object.freeze(meta.faceFields.map((f) => Object.freeze({ coefficient: f.coefficient, side: f.side }))),
    faceLattice: freezeLattice(meta.faceLattice),
    face: f32('face'),
    mouthSeam: f32('mouthSeam'),
    mouthCrop: Object.freeze({ ...meta.mouthCrop }),
    mouthSides: f32('mouthSides'),
    mouthRegion: f32('mouthRegion'),
    mouthLayer: f32('mouthLayer'),
    mouthWindow: featureWindow(meta.mouthWindow, f32('mouthWindowMotion'), f32('mouthWindowPose')),
    eyeFields: Object.freeze(meta.eyeFields.map((f) => Object.freeze({ coefficient: f.coefficient, side: f.side }))),
    eyeLattice: freezeLattice(meta.eyeLattice),
    eyes: f32('eyes'),
    eyeLid: f32('eyeLid'),
    eyeLidTexture: u8('eyeLidTexture'),
    eyeWindow: featureWindow(meta.eyeWindow, f32('eyeWindowMotion'), f32('eyeWindowPose')),
    lipSeam: f32('lipSeam'),
    teethVisible: meta.teethVisible === true,
    lipGap: Number(meta.lipGap),
    headAlpha: f32('headAlpha'),
    torsoAlpha: f32('torsoAlpha'),
    torsoColour: u8('torsoColour'),
    plate: u8('plate'),
    segmented: meta.segmented === true,
  });
}

function windowMeta(w: FeatureWindow): WindowMeta {
  return { width: w.width, height: w.height, home: { x: w.home.x, y: w.home.y }, view: w.view };
}

function featureWindow(m: WindowMeta, motion: Float32Array, pose: Float32Array): FeatureWindow {
  return Object.freeze({ width: m.width, height: m.height, home: Object.freeze({ x: m.home.x, y: m.home.y }), view: Object.freeze({ ...m.view }), motion, pose });
}

function freezeLattice(l: Lattice): Lattice {
  return Object.freeze({ box: Object.freeze({ x: l.box.x, y: l.box.y, width: l.box.width, height: l.box.height }), cols: l.cols, rows: l.rows });
}

function isBox(b: Box | undefined, width: number, height: number): boolean {
  return (
    !!b &&
    [b.x, b.y, b.width, b.height].every(Number.isInteger) &&
    b.x >= 0 &&
    b.y >= 0 &&
    b.width >= 1 &&
    b.height >= 1 &&
    b.x + b.width <= width &&
    b.y + b.height <= height
  );
}
