// Enrollment: portrait bytes -> EnrolledAvatar (framed reference, landmarks, descriptor, masks, motion basis),
// cached on disk by image hash so that enrolling the same picture again is a file read.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { moduleLogger } from '../../log.ts';
import { BASIS_VERSION, buildMotionBasis } from './basis.ts';
import { BASIS_ARRAYS, basisFromCache, basisToCache, type BasisArrayName, type BasisMeta } from './basis-cache.ts';
import { COEFFICIENT_NAMES } from './coefficients.ts';
import { FaceIndexError, ImageDecodeError, MultipleFacesError, NoFaceError } from './errors.ts';
import { detectFaces } from './face.ts';
import { pt } from './geometry.ts';
import { buildMasks } from './masks.ts';
import type { Box, DetectedFace, EnrollOptions, EnrolledAvatar, FaceDetector, MouthGeometry } from './types.ts';

// No libvips operation cache: each picture is decoded once, and a cache would keep up to ~50 MB of pixels alive
// in the enrolling thread after its pictures are gone.
sharp.cache(false);

const log = moduleLogger('packs/default/enroll');

export const DEFAULT_AVATAR_SIZE = 512;
export const DEFAULT_CACHE_DIR = 'var/avatars';
/** Face height (detector box) as a fraction of the framed square when the face is small in the picture. */
export const FRAMING_FACE_FRACTION = 0.3;
/** Where the face centre sits in the framed square, from the top (the rest is neck and shoulders). */
const FRAMING_FACE_CENTRE_Y = 0.42;
/** Faces smaller than this fraction of the largest face's height are ignored (people in the background). */
const MIN_FACE_RELATIVE = 0.3;
/** Detection runs on a copy no larger than this (long side), then boxes are mapped back. */
const DETECT_MAX_SIDE = 1024;
const CACHE_FORMAT = 2;
const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'webp']);

const DEBIAN_PORTRAIT = '/usr/lib/python3/dist-packages/imageio/resources/images/astronaut.png';

/**
 * The built-in portrait (Eileen Collins, NASA, public domain): the copy scripts/install.sh extracts to
 * models/build/astronaut.png, else Debian's python3-imageio copy it comes from.
 */
export function builtinPortraitPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const extracted = path.resolve(here, '../../../models/build/astronaut.png');
  return existsSync(extracted) || !existsSync(DEBIAN_PORTRAIT) ? extracted : DEBIAN_PORTRAIT;
}

/** What enrollment is doing, reported through `onProgress` in this order (some are skipped on a cache hit). */
export type EnrollStage = 'cache' | 'decode' | 'detect' | 'frame' | 'landmarks' | 'basis' | 'save' | 'done';

/** The most faces `face` can pick from (the detector returns at most 20). */
export const MAX_FACE_INDEX = 19;

export interface EnrollPortraitOptions extends EnrollOptions {
  /**
   * Which face to animate when the picture has several: an index into the faces numbered left to right (by the
   * centre of their boxes), after faces much smaller than the largest are dropped. Without it, a picture with
   * several faces throws MultipleFacesError, whose `boxes` use the same numbering. Part of the cache key.
   */
  readonly face?: number;
  /** Called as enrollment advances; `fraction` grows from 0 to 1. Errors thrown by the callback are ignored. */
  readonly onProgress?: (stage: EnrollStage, fraction: number) => void;
}

interface NormalizedEnrollOptions {
  readonly size: number;
  readonly framing: 'auto' | 'none';
  readonly cacheDir: string | false;
  readonly detector: FaceDetector;
  readonly face: number | undefined;
  readonly progress: (stage: EnrollStage, fraction: number) => void;
}

function normalizeOptions(opts: EnrollPortraitOptions): NormalizedEnrollOptions {
  const size = opts.size ?? DEFAULT_AVATAR_SIZE;
  if (!Number.isInteger(size) || size < 128 || size > 2048 || size % 2 !== 0) {
    throw new RangeError(`size must be an even integer in [128, 2048], got ${String(opts.size)}`);
  }
  const framing = opts.framing ?? 'auto';
  if (framing !== 'auto' && framing !== 'none') throw new RangeError(`framing must be 'auto' or 'none', got '${String(framing)}'`);
  const detector = opts.detector ?? 'ssd';
  if (detector !== 'ssd' && detector !== 'tiny') throw new RangeError(`detector must be 'ssd' or 'tiny', got '${String(detector)}'`);
  const dir = opts.cacheDir ?? DEFAULT_CACHE_DIR;
  if (dir !== false && (typeof dir !== 'string' || dir.length === 0)) throw new RangeError('cacheDir must be a non-empty path or false');
  const face = opts.face;
  if (face !== undefined && (!Number.isInteger(face) || face < 0 || face > MAX_FACE_INDEX)) {
    throw new RangeError(`face must be an integer in [0, ${MAX_FACE_INDEX}], got ${String(face)}`);
  }
  const cb = opts.onProgress;
  if (cb !== undefined && typeof cb !== 'function') throw new TypeError('onProgress must be a function');
  const progress = (stage: EnrollStage, fraction: number): void => {
    try {
      cb?.(stage, fraction);
    } catch (err) {
      log.warn({ err, stage }, 'enrollment progress callback threw; ignored');
    }
  };
  return Object.freeze({ size, framing, detector, face, progress, cacheDir: dir === false ? false : path.resolve(dir) });
}

/** sha256 of the bytes, hex, first 16 characters. */
export function avatarId(image: Uint8Array): string {
  return createHash('sha256').update(image).digest('hex').slice(0, 16);
}

const pending = new Map<string, Promise<EnrolledAvatar>>();

/**
 * Enrolls a portrait (JPEG, PNG or WebP bytes). Throws ImageDecodeError, NoFaceError, MultipleFacesError or
 * FaceIndexError. Concurrent enrollments of the same picture with the same options share one computation (only
 * the first caller's onProgress is called).
 */
export async function enrollPortrait(image: Uint8Array, opts: EnrollPortraitOptions = {}): Promise<EnrolledAvatar> {
  if (!(image instanceof Uint8Array)) throw new TypeError('image must be a Buffer or Uint8Array');
  const o = normalizeOptions(opts);
  const id = avatarId(image);
  const key = `${id}-${o.size}-${o.framing}-${o.detector}-b${BASIS_VERSION}${o.face === undefined ? '' : `-f${o.face}`}`;
  const cacheKey = `${o.cacheDir || ''}|${key}`;
  const existing = pending.get(cacheKey);
  if (existing) return existing;
  const work = enrollUncoalesced(image, id, key, o).finally(() => pending.delete(cacheKey));
  pending.set(cacheKey, work);
  return work;
}

async function enrollUncoalesced(image: Uint8Array, id: string, key: string, o: NormalizedEnrollOptions): Promise<EnrolledAvatar> {
  const t0 = performance.now();
  const cachePath = o.cacheDir === false ? undefined : path.join(o.cacheDir, key);
  if (cachePath) {
    o.progress('cache', 0);
    const cached = await readCache(cachePath, id, o.size);
    if (cached) {
      log.debug({ id, ms: Math.round(performance.now() - t0), cachePath }, 'enrolled from cache');
      o.progress('done', 1);
      return cached;
    }
  }
  const avatar = await buildAvatar(image, id, o);
  if (cachePath) {
    o.progress('save', 0.93);
    await writeCache(cachePath, avatar);
  }
  o.progress('done', 1);
  log.debug({ id, ms: Math.round(performance.now() - t0) }, 'enrolled');
  return avatar;
}

interface Decoded {
  readonly rgb: Uint8Array;
  readonly width: number;
  readonly height: number;
}

async function decode(image: Uint8Array): Promise<Decoded> {
  if (image.length === 0) throw new ImageDecodeError('image is empty');
  let format: string | undefined;
  try {
    format = (await sharp(image).metadata()).format;
  } catch (err) {
    throw new ImageDecodeError('not a decodable image', { cause: err });
  }
  if (!format || !ACCEPTED_FORMATS.has(format)) {
    throw new ImageDecodeError(`unsupported image format '${String(format)}' (accepted: JPEG, PNG, WebP)`);
  }
  try {
    const { data, info } = await sharp(image, { failOn: 'error' })
      .rotate() // honour EXIF orientation
      .flatten({ background: '#ffffff' })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded ${info.channels} channels`);
    return { rgb: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
  } catch (err) {
    throw new ImageDecodeError(`image could not be decoded (${format})`, { cause: err });
  }
}

async function resizeRaw(src: Decoded, crop: Box, size: number): Promise<Uint8Array> {
  const { data } = await sharp(src.rgb, { raw: { width: src.width, height: src.height, channels: 3 } })
    .extract({ left: crop.x, top: crop.y, width: crop.width, height: crop.height })
    .resize(size, size, { kernel: 'lanczos3', fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Detects on a downscaled copy when the picture is large; boxes and landmarks come back in source pixels. */
async function detectInSource(src: Decoded, detector: FaceDetector): Promise<DetectedFace[]> {
  const long = Math.max(src.width, src.height);
  if (long <= DETECT_MAX_SIDE) return detectFaces(src.rgb, src.width, src.height, { detector });
  const f = DETECT_MAX_SIDE / long;
  const w = Math.max(1, Math.round(src.width * f));
  const h = Math.max(1, Math.round(src.height * f));
  const { data } = await sharp(src.rgb, { raw: { width: src.width, height: src.height, channels: 3 } })
    .resize(w, h, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const faces = await detectFaces(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), w, h, { detector });
  const sx = src.width / w;
  const sy = src.height / h;
  return faces.map((face) => ({
    ...face,
    box: { x: face.box.x * sx, y: face.box.y * sy, width: face.box.width * sx, height: face.box.height * sy },
    landmarks: face.landmarks.map((v, i) => (i % 2 === 0 ? v * sx : v * sy)),
  }));
}

/** The square crop around the face (source pixels, integers, inside the picture). */
export function frameCrop(face: Box, landmarks: Float32Array, width: number, height: number, framing: 'auto' | 'none'): Box {
  const short = Math.min(width, height);
  let cx = 0;
  let cy = 0;
  for (let i = 0; i < 68; i++) {
    cx += landmarks[2 * i]!;
    cy += landmarks[2 * i + 1]!;
  }
  cx /= 68;
  cy /= 68;
  let side = short;
  let top = cy - FRAMING_FACE_CENTRE_Y * short;
  if (framing === 'auto') {
    const want = Math.max(face.height, face.width) / FRAMING_FACE_FRACTION;
    if (want < short) {
      side = want;
      top = cy - FRAMING_FACE_CENTRE_Y * side;
    }
  }
  side = Math.max(8, Math.min(short, Math.round(side)));
  const left = Math.round(Math.min(Math.max(cx - side / 2, 0), width - side));
  const topI = Math.round(Math.min(Math.max(top, 0), height - side));
  return { x: left, y: topI, width: side, height: side };
}

function boxOverlap(a: Box, b: Box): number {
  const x0 = Math.max(a.x, b.x);
  const y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.width, b.x + b.width);
  const y1 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

function mouthGeometry(landmarks: Float32Array): MouthGeometry {
  const l = pt(landmarks, 48);
  const r = pt(landmarks, 54);
  const t = pt(landmarks, 51);
  const b = pt(landmarks, 57);
  let cx = 0;
  let cy = 0;
  for (let i = 48; i < 68; i++) {
    cx += landmarks[2 * i]!;
    cy += landmarks[2 * i + 1]!;
  }
  return Object.freeze({
    cx: cx / 20,
    cy: cy / 20,
    width: Math.hypot(r.x - l.x, r.y - l.y),
    height: Math.hypot(b.x - t.x, b.y - t.y),
  });
}

async function buildAvatar(image: Uint8Array, id: string, o: NormalizedEnrollOptions): Promise<EnrolledAvatar> {
  o.progress('decode', 0.01);
  const src = await decode(image);
  o.progress('detect', 0.02);
  const all = await detectInSource(src, o.detector);
  if (all.length === 0) throw new NoFaceError();
  const biggest = Math.max(...all.map((f) => f.box.height));
  const centre = (b: Box): number => b.x + b.width / 2;
  // Numbered left to right: the order a person reads the picture in, stable when detector scores wobble.
  const faces = all.filter((f) => f.box.height >= MIN_FACE_RELATIVE * biggest).sort((a, b) => centre(a.box) - centre(b.box));
  if (o.face === undefined && faces.length > 1) throw new MultipleFacesError(faces.map((f) => f.box), faces.map((f) => f.score));
  if (o.face !== undefined && o.face >= faces.length) throw new FaceIndexError(o.face, faces.map((f) => f.box), faces.map((f) => f.score));
  const face = faces[o.face ?? 0]!;

  o.progress('frame', 0.32);
  const crop = frameCrop(face.box, face.landmarks, src.width, src.height, o.framing);
  const reference = await resizeRaw(src, crop, o.size);
  const scale = o.size / crop.width;
  const mapped: Box = {
    x: (face.box.x - crop.x) * scale,
    y: (face.box.y - crop.y) * scale,
    width: face.box.width * scale,
    height: face.box.height * scale,
  };
  // Landmarks again on the framed picture: more pixels on the face, so more precise than the mapped ones.
  o.progress('landmarks', 0.35);
  const again = await detectFaces(reference, o.size, o.size, { detector: o.detector, minScore: 0.3 });
  const match = again.map((f) => ({ f, iou: boxOverlap(f.box, mapped) })).sort((a, b) => b.iou - a.iou)[0];
  let landmarks: Float32Array;
  let faceBox: Box;
  let descriptor: Float32Array;
  let score: number;
  if (match && match.iou > 0.3) {
    ({ landmarks, descriptor, score } = match.f);
    faceBox = match.f.box;
  } else {
    log.warn({ id }, 'face not re-detected on the framed portrait; using landmarks mapped from the source');
    landmarks = face.landmarks.map((v, i) => (i % 2 === 0 ? (v - crop.x) * scale : (v - crop.y) * scale));
    faceBox = mapped;
    descriptor = face.descriptor;
    score = face.score;
  }
  o.progress('basis', 0.62);
  const masks = buildMasks(landmarks, o.size, o.size);
  const basis = buildMotionBasis(landmarks, o.size, o.size, reference);
  return Object.freeze({
    id,
    width: o.size,
    height: o.size,
    reference,
    landmarks,
    descriptor,
    faceBox: Object.freeze({ ...faceBox }),
    faceScore: score,
    mouth: mouthGeometry(landmarks),
    masks,
    basis,
    crop: Object.freeze(crop),
    source: Object.freeze({ width: src.width, height: src.height }),
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Disk cache: <cacheDir>/<id>-<size>-<framing>-<detector>-b<basis version>/{avatar.json, avatar.bin}, written to a
// temporary folder and renamed into place, so a reader never sees half a cache entry.

type ArrayKind = 'u8' | 'f32';
interface ArrayEntry {
  readonly kind: ArrayKind;
  readonly offset: number;
  readonly length: number;
}
interface CacheMeta {
  readonly format: number;
  readonly basisVersion: number;
  readonly coefficientNames: readonly string[];
  readonly id: string;
  readonly width: number;
  readonly height: number;
  readonly faceBox: Box;
  readonly faceScore: number;
  readonly mouth: MouthGeometry;
  readonly crop: Box;
  readonly source: { readonly width: number; readonly height: number };
  readonly basis: BasisMeta;
  readonly arrays: Readonly<Record<string, ArrayEntry>>;
}

const AVATAR_ARRAYS = ['reference', 'landmarks', 'descriptor', 'maskFace', 'maskMouth', 'maskEyes'] as const;
type AvatarArray = (typeof AVATAR_ARRAYS)[number];
/** Basis arrays are stored under 'basis.<name>'. */
const CACHED_ARRAYS = [...AVATAR_ARRAYS, ...Object.keys(BASIS_ARRAYS).map((k) => `basis.${k}`)];

function arraysOf(a: EnrolledAvatar): Record<string, Uint8Array | Float32Array> {
  const basis = basisToCache(a.basis).arrays;
  return {
    reference: a.reference,
    landmarks: a.landmarks,
    descriptor: a.descriptor,
    maskFace: a.masks.face,
    maskMouth: a.masks.mouth,
    maskEyes: a.masks.eyes,
    ...Object.fromEntries(Object.entries(basis).map(([k, v]) => [`basis.${k}`, v])),
  };
}

async function writeCache(dir: string, avatar: EnrolledAvatar): Promise<void> {
  const arrays = arraysOf(avatar);
  const entries: Record<string, ArrayEntry> = {};
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const name of CACHED_ARRAYS) {
    const arr = arrays[name]!;
    const bytes = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
    entries[name] = { kind: arr instanceof Float32Array ? 'f32' : 'u8', offset, length: arr.length };
    chunks.push(bytes);
    offset += bytes.byteLength;
    const pad = (4 - (offset % 4)) % 4;
    if (pad) {
      chunks.push(new Uint8Array(pad));
      offset += pad;
    }
  }
  const meta: CacheMeta = {
    format: CACHE_FORMAT,
    basisVersion: BASIS_VERSION,
    coefficientNames: avatar.basis.coefficientNames,
    id: avatar.id,
    width: avatar.width,
    height: avatar.height,
    faceBox: avatar.faceBox,
    faceScore: avatar.faceScore,
    mouth: avatar.mouth,
    crop: avatar.crop,
    source: avatar.source,
    basis: basisToCache(avatar.basis).meta,
    arrays: entries,
  };
  const parent = path.dirname(dir);
  const tmp = path.join(parent, `.tmp-${path.basename(dir)}-${randomBytes(4).toString('hex')}`);
  try {
    await fs.mkdir(tmp, { recursive: true });
    await fs.writeFile(path.join(tmp, 'avatar.bin'), Buffer.concat(chunks));
    await fs.writeFile(path.join(tmp, 'avatar.json'), JSON.stringify(meta));
    await fs.rename(tmp, dir);
  } catch (err) {
    // Another enrollment may have renamed the same entry into place first; the cache is an optimisation, so a
    // failed write is logged and the freshly built avatar is still returned.
    await fs.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    if (!existsSync(path.join(dir, 'avatar.json'))) log.warn({ err, dir }, 'could not write the avatar cache');
  }
}

async function readCache(dir: string, id: string, size: number): Promise<EnrolledAvatar | undefined> {
  let metaText: string;
  let bin: Buffer;
  try {
    [metaText, bin] = await Promise.all([fs.readFile(path.join(dir, 'avatar.json'), 'utf8'), fs.readFile(path.join(dir, 'avatar.bin'))]);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.warn({ err, dir }, 'avatar cache unreadable; rebuilding');
    return undefined;
  }
  try {
    const meta = JSON.parse(metaText) as CacheMeta;
    if (meta.format !== CACHE_FORMAT || meta.basisVersion !== BASIS_VERSION || meta.id !== id || meta.width !== size || meta.height !== size) {
      throw new Error('stale cache entry');
    }
    if (meta.coefficientNames.length !== COEFFICIENT_NAMES.length || meta.coefficientNames.some((n, i) => n !== COEFFICIENT_NAMES[i])) {
      throw new Error('cache entry built for other coefficients');
    }
    const plane = size * size;
    const expected: Record<AvatarArray, number> = {
      reference: plane * 3,
      landmarks: 136,
      descriptor: 128,
      maskFace: plane,
      maskMouth: plane,
      maskEyes: plane,
    };
    const get = (name: string, kind: 'u8' | 'f32', length: number): Uint8Array | Float32Array => {
      const e = meta.arrays[name];
      if (!e || e.kind !== kind || e.length !== length) throw new Error(`array '${name}' missing or of the wrong length`);
      const bytes = e.kind === 'f32' ? e.length * 4 : e.length;
      if (e.offset < 0 || e.offset + bytes > bin.byteLength) throw new Error(`array '${name}' out of bounds`);
      const copy = bin.buffer.slice(bin.byteOffset + e.offset, bin.byteOffset + e.offset + bytes);
      return e.kind === 'f32' ? new Float32Array(copy) : new Uint8Array(copy);
    };
    const f32 = (name: AvatarArray): Float32Array => get(name, 'f32', expected[name]) as Float32Array;
    const u8 = (name: AvatarArray): Uint8Array => get(name, 'u8', expected[name]) as Uint8Array;
    const basis = basisFromCache(meta.basis, (name: BasisArrayName, kind, length) => get(`basis.${name}`, kind, length));
    if (basis.width !== size || basis.height !== size) throw new Error('basis of another size');
    return Object.freeze({
      id,
      width: size,
      height: size,
      reference: u8('reference'),
      landmarks: f32('landmarks'),
      descriptor: f32('descriptor'),
      faceBox: Object.freeze({ ...meta.faceBox }),
      faceScore: meta.faceScore,
      mouth: Object.freeze({ ...meta.mouth }),
      masks: Object.freeze({ face: u8('maskFace'), mouth: u8('maskMouth'), eyes: u8('maskEyes') }),
      basis,
      crop: Object.freeze({ ...meta.crop }),
      source: Object.freeze({ ...meta.source }),
    });
  } catch (err) {
    log.warn({ err, dir }, 'avatar cache corrupt; rebuilding');
    await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
    return undefined;
  }
}
