// The avatar registry: the built-in avatar plus every portrait enrolled over HTTP or with `facecast enroll`.
// It lives beside enroll.ts's cache, in files so that the CLI and a running server share it:
//   <cacheDir>/registry/<id>.json   what the API lists (validated when read: it is input from disk)
//   <cacheDir>/sources/<image hash> the portrait's bytes, so that the avatar can be enrolled again (a cache hit,
//                                   or a rebuild when the pack's basis version has changed)
// Ids: the image hash (enroll.ts's avatarId), with `-f<N>` when a face was picked with `face`.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { z } from 'zod';
import { moduleLogger } from '../log.ts';
import { ImageDecodeError, avatarId, type Box, type EnrolledAvatar } from '../packs/default/index.ts';
import type { Enroller, ProgressFn } from './enroll-worker.ts';

const log = moduleLogger('session/avatars');

/** Records read per directory scan at most; more are ignored with a warning (the listing stays bounded). */
const MAX_RECORDS = 10_000;
const ID_RE = /^[0-9a-f]{16}(-f\d{1,2})?$/;
const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'webp']);

export interface ImageLimits {
  readonly maxBytes: number;
  /** Longest side, pixels. */
  readonly maxSide: number;
}

/**
 * The most pixels the image decoder (sharp/libvips) takes by default: 0x3FFF x 0x3FFF. A picture over it would fail
 * to decode, so it is refused as too large from its header (413), whatever FACECAST_MAX_IMAGE_SIDE allows.
 */
export const MAX_IMAGE_PIXELS = 0x3fff * 0x3fff;

/** Too many bytes, too many pixels on a side, or too many pixels in all. */
export class ImageTooLargeError extends Error {
  override readonly name = 'ImageTooLargeError';
}

/** Decodable, but not JPEG, PNG or WebP. */
export class UnsupportedImageError extends Error {
  override readonly name = 'UnsupportedImageError';
}

/** The registry lists the avatar but its portrait is gone from disk. */
export class AvatarUnavailableError extends Error {
  override readonly name = 'AvatarUnavailableError';
}

/**
 * The checks that need no decoding: size in bytes, then the header's format and dimensions (sharp reads only
 * the header), so that a 20 MB picture of 60000x60000 pixels is refused before anyone allocates for it.
 */
export async function inspectImage(image: Uint8Array, limits: ImageLimits): Promise<{ format: string; width: number; height: number }> {
  if (image.byteLength > limits.maxBytes) throw new ImageTooLargeError(`the image is ${mb(image.byteLength)}; the limit is ${mb(limits.maxBytes)}`);
  if (image.byteLength === 0) throw new ImageDecodeError('the image is empty');
  let meta: sharp.Metadata;
  try {
    // The header only, whatever its size (sharp's own pixel limit would refuse it as a failed read): the checks
    // below turn an over-large picture into a 413 with its dimensions.
    meta = await sharp(image, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new ImageDecodeError('not a decodable image (JPEG, PNG or WebP expected)', { cause: err });
  }
  if (!meta.format || !ACCEPTED_FORMATS.has(meta.format)) throw new UnsupportedImageError(`unsupported image format '${String(meta.format)}' (accepted: JPEG, PNG, WebP)`);
  const { width, height } = meta;
  if (!width || !height) throw new ImageDecodeError('the image header has no dimensions');
  if (Math.max(width, height) > limits.maxSide) {
    throw new ImageTooLargeError(`the image is ${width}x${height} pixels; its longest side may be at most ${limits.maxSide} px`);
  }
  if (width * height > MAX_IMAGE_PIXELS) {
    throw new ImageTooLargeError(`the image is ${width}x${height} pixels; at most ${MAX_IMAGE_PIXELS} pixels in all can be decoded`);
  }
  return { format: meta.format, width, height };
}

function mb(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** Faces as the API and the CLI show them: numbered left to right, boxes in the image's pixels. */
export function facesOf(boxes: readonly Box[], scores: readonly number[]): { index: number; box: Box; score: number | null }[] {
  return boxes.map((b, index) => ({ index, box: roundBox(b), score: scores[index] === undefined ? null : Math.round(scores[index]! * 1000) / 1000 }));
}

const boxSchema = z.object({ x: z.number(), y: z.number(), width: z.number().nonnegative(), height: z.number().nonnegative() }).strict();
const recordSchema = z
  .object({
    id: z.string().regex(ID_RE),
    name: z.string().min(1).max(200),
    createdAt: z.iso.datetime(),
    enrollmentId: z.string().regex(/^[0-9a-f]{16}$/),
    face: z.number().int().min(0).nullable(),
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    faceBox: boxSchema,
    mouthBox: z.object({ x: z.number(), y: z.number(), w: z.number(), h: z.number() }).strict(),
    source: z.object({ width: z.number().int().positive(), height: z.number().int().positive(), faceBox: boxSchema }).strict(),
  })
  .strict();

/** What GET /api/avatars lists about an avatar. */
export type AvatarInfo = Readonly<z.output<typeof recordSchema> & { builtIn: boolean }>;

export interface EnrollAvatarOptions {
  readonly face?: number;
  /** Shown in listings; kept from an earlier enrollment of the same picture when not given. */
  readonly name?: string;
  readonly onProgress?: ProgressFn;
}

function roundBox(b: Box): Box {
  const r = (v: number) => Math.round(v * 10) / 10;
  return { x: r(b.x), y: r(b.y), width: r(b.width), height: r(b.height) };
}

/** The listing's description of an enrolled avatar (boxes in its own pixels, plus the face in the source). */
export function describeAvatar(avatar: EnrolledAvatar): Omit<AvatarInfo, 'id' | 'name' | 'createdAt' | 'face' | 'builtIn'> {
  const m = avatar.mouth;
  const s = avatar.width / avatar.crop.width;
  const f = avatar.faceBox;
  return {
    enrollmentId: avatar.id,
    width: avatar.width,
    height: avatar.height,
    faceBox: roundBox(f),
    // The region the mouth moves in: the lips plus the jaw's travel below them, and no
    // further (below the chin, clothing or shadow would read as an open mouth).
    mouthBox: { x: Math.round(m.cx - m.width * 0.65), y: Math.round(m.cy - m.height * 0.6), w: Math.round(m.width * 1.3), h: Math.round(m.height * 1.9) },
    source: {
      width: avatar.source.width,
      height: avatar.source.height,
      faceBox: roundBox({ x: avatar.crop.x + f.x / s, y: avatar.crop.y + f.y / s, width: f.width / s, height: f.height / s }),
    },
  };
}

export class AvatarRegistry {
  readonly cacheDir: string;
  readonly #enroller: Enroller;
  readonly #recordDir: string;
  readonly #sourceDir: string;
  /** Built-in avatars: their portrait path, kept in memory only. */
  readonly #builtIn = new Map<string, { info: AvatarInfo; imagePath: string }>();
  #records = new Map<string, AvatarInfo>();
  #scannedMtimeMs = -1;
  #closed = false;

  /** The registry owns the enroller and closes it. */
  constructor(cacheDir: string, enroller: Enroller) {
    this.cacheDir = path.resolve(cacheDir);
    this.#enroller = enroller;
    this.#recordDir = path.join(this.cacheDir, 'registry');
    this.#sourceDir = path.join(this.cacheDir, 'sources');
  }

  /** Enrolls a built-in avatar under a fixed id (not written to the registry folder). */
  async addBuiltIn(id: string, imagePath: string, name: string): Promise<AvatarInfo> {
    const image = await fs.readFile(imagePath);
    const avatar = await this.#enroller.enroll(image);
    const info: AvatarInfo = Object.freeze({ id, name, createdAt: new Date().toISOString(), face: null, builtIn: true, ...describeAvatar(avatar) });
    this.#builtIn.set(id, { info, imagePath });
    return info;
  }

  /** Built-in avatars first, then the enrolled ones, oldest first. Picks up avatars enrolled by other processes. */
  async list(): Promise<AvatarInfo[]> {
    await this.#rescan();
    const enrolled = [...this.#records.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    return [...[...this.#builtIn.values()].map((b) => b.info), ...enrolled];
  }

  async get(id: string): Promise<AvatarInfo | undefined> {
    const known = this.#builtIn.get(id)?.info ?? this.#records.get(id);
    if (known || !ID_RE.test(id)) return known;
    const rec = await this.#readRecord(id); // enrolled by another process since the last scan
    if (rec) this.#records.set(id, rec);
    return rec;
  }

  /** Enrolls a portrait (bytes already through inspectImage) and records it. Throws the pack's named errors. */
  async enroll(image: Uint8Array, opts: EnrollAvatarOptions = {}): Promise<AvatarInfo> {
    if (this.#closed) throw new Error('avatar registry is closed');
    const hash = avatarId(image);
    const id = opts.face === undefined ? hash : `${hash}-f${opts.face}`;
    const avatar = await this.#enroller.enroll(image, { face: opts.face, onProgress: opts.onProgress });
    await this.#writeSource(hash, image);
    const prev = this.#records.get(id) ?? (await this.#readRecord(id));
    const info: AvatarInfo = Object.freeze({
      id,
      name: opts.name ?? prev?.name ?? `avatar ${id.slice(0, 8)}`,
      createdAt: prev?.createdAt ?? new Date().toISOString(),
      face: opts.face ?? null,
      builtIn: false,
      ...describeAvatar(avatar),
    });
    await this.#writeRecord(info);
    this.#records.set(id, info);
    log.debug({ id, name: info.name }, 'avatar enrolled');
    return info;
  }

  /** The enrolled avatar's data, for a renderer (through the enroller: a cache read, or a rebuild). */
  async load(id: string): Promise<EnrolledAvatar> {
    const info = await this.get(id);
    if (!info) throw new AvatarUnavailableError(`unknown avatar '${id}'`);
    const builtIn = this.#builtIn.get(id);
    const file = builtIn ? builtIn.imagePath : path.join(this.#sourceDir, info.enrollmentId);
    let image: Buffer;
    try {
      image = await fs.readFile(file);
    } catch (err) {
      throw new AvatarUnavailableError(`the portrait of avatar '${id}' is missing (${file}): enroll it again`, { cause: err });
    }
    return this.#enroller.enroll(image, { face: info.face ?? undefined });
  }

  /** Idempotent: stops the enroller (enrollments in flight fail). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#enroller.close();
  }

  async #rescan(): Promise<void> {
    let mtimeMs: number;
    try {
      mtimeMs = (await fs.stat(this.#recordDir)).mtimeMs;
    } catch {
      return; // nothing enrolled yet
    }
    if (mtimeMs === this.#scannedMtimeMs) return;
    const names = (await fs.readdir(this.#recordDir)).filter((n) => n.endsWith('.json') && ID_RE.test(n.slice(0, -5)));
    if (names.length > MAX_RECORDS) log.warn({ count: names.length, max: MAX_RECORDS }, 'too many enrolled avatars; listing the first ones');
    const next = new Map<string, AvatarInfo>();
    for (const n of names.slice(0, MAX_RECORDS)) {
      const id = n.slice(0, -5);
      const rec = this.#records.get(id) ?? (await this.#readRecord(id));
      if (rec) next.set(id, rec);
    }
    this.#records = next;
    this.#scannedMtimeMs = mtimeMs;
  }

  async #readRecord(id: string): Promise<AvatarInfo | undefined> {
    let text: string;
    try {
      text = await fs.readFile(path.join(this.#recordDir, `${id}.json`), 'utf8');
    } catch {
      return undefined;
    }
    try {
      const parsed = recordSchema.safeParse(JSON.parse(text));
      if (!parsed.success || parsed.data.id !== id) throw new Error(parsed.success ? 'id does not match the file name' : parsed.error.message);
      return Object.freeze({ ...parsed.data, builtIn: false });
    } catch (err) {
      log.warn({ err, id }, 'unreadable avatar record; ignored');
      return undefined;
    }
  }

  async #writeRecord(info: AvatarInfo): Promise<void> {
    const { builtIn: _builtIn, ...record } = info;
    await atomicWrite(path.join(this.#recordDir, `${info.id}.json`), JSON.stringify(record, null, 1));
  }

  async #writeSource(hash: string, image: Uint8Array): Promise<void> {
    const file = path.join(this.#sourceDir, hash);
    const have = await fs.stat(file).then(
      (st) => st.size === image.byteLength,
      () => false,
    );
    if (!have) await atomicWrite(file, image);
  }
}

/** Written beside, then renamed: a reader (another process) never sees half a file. */
async function atomicWrite(file: string, data: string | Uint8Array): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.tmp-${path.basename(file)}-${randomBytes(4).toString('hex')}`);
  try {
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}
