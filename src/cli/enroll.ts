// `facecast enroll photo.jpg [--face N] [--name NAME]`: enrolls a portrait into the avatar registry that the
// server lists (FACECAST_AVATAR_CACHE), with a progress bar on stderr. The id goes to stdout (or the whole
// record with --json), a summary to stderr; every failure is one clear message and exit status 1.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../server/config.ts';
import { FaceIndexError, ImageDecodeError, MAX_FACE_INDEX, MultipleFacesError, NoFaceError, type Box } from '../packs/default/index.ts';
import { AvatarRegistry, ImageTooLargeError, UnsupportedImageError, facesOf, inspectImage } from '../session/avatars.ts';
import { InProcessEnroller } from '../session/enroll-worker.ts';

export interface EnrollCommandOptions {
  image: string;
  face?: string;
  name?: string;
  json?: boolean;
  progress?: boolean;
}

function bar(stage: string, fraction: number): string {
  const w = 30;
  const k = Math.round(fraction * w);
  return `[${'#'.repeat(k)}${'.'.repeat(w - k)}] ${String(Math.round(fraction * 100)).padStart(3)}% ${stage.padEnd(10)}`;
}

function faceLines(boxes: readonly Box[], scores: readonly number[]): string {
  return facesOf(boxes, scores)
    .map((f) => {
      const b = f.box;
      const score = f.score === null ? '' : `  score ${f.score.toFixed(2)}`;
      return `  --face ${f.index}   x=${Math.round(b.x)} y=${Math.round(b.y)} ${Math.round(b.width)}x${Math.round(b.height)} px${score}`;
    })
    .join('\n');
}

/** One message per failure, naming the file and what to do (branching on classes). */
function explain(err: unknown, file: string): Error {
  if (err instanceof ImageTooLargeError) return new Error(`${file} is too large: ${err.message} (limits: FACECAST_MAX_UPLOAD_BYTES, FACECAST_MAX_IMAGE_SIDE)`);
  if (err instanceof UnsupportedImageError) return new Error(`${file}: ${err.message}`);
  if (err instanceof ImageDecodeError) return new Error(`${file} is not a usable image: ${err.message}`);
  if (err instanceof NoFaceError) return new Error(`no face found in ${file}: use a portrait in which one face is clearly visible`);
  if (err instanceof MultipleFacesError) {
    return new Error(`${err.boxes.length} faces found in ${file}; pick one with --face N (numbered left to right, boxes in image pixels):\n${faceLines(err.boxes, err.scores)}`);
  }
  if (err instanceof FaceIndexError) return new Error(`${file}: ${err.message}; pick one with --face N:\n${faceLines(err.boxes, err.scores)}`);
  return err instanceof Error ? err : new Error(String(err));
}

export async function enrollCommand(o: EnrollCommandOptions): Promise<void> {
  const config = loadConfig();
  let face: number | undefined;
  if (o.face !== undefined) {
    if (!/^\d{1,2}$/.test(o.face) || Number(o.face) > MAX_FACE_INDEX) throw new Error(`--face must be a face number from 0 to ${MAX_FACE_INDEX}, got '${o.face}'`);
    face = Number(o.face);
  }
  const name = (o.name ?? path.basename(o.image, path.extname(o.image))).trim();
  if (name.length < 1 || name.length > 100 || /\p{Cc}/u.test(name)) throw new Error('--name must be 1 to 100 printable characters');

  const limits = { maxBytes: config.maxUploadBytes, maxSide: config.maxImageSide };
  const size = await stat(o.image).then(
    (st) => st.size,
    () => {
      throw new Error(`cannot read ${o.image}`);
    },
  );
  const t0 = performance.now();
  const registry = new AvatarRegistry(config.avatarCacheDir, new InProcessEnroller(config.avatarCacheDir));
  let shown = '';
  const show = (stage: string, fraction: number) => {
    const line = bar(stage, fraction);
    if (o.progress === false || line === shown) return;
    shown = line;
    process.stderr.write(`\r${line}`);
  };
  try {
    // The byte limit first, from the file's size: a huge file is refused without being read.
    if (size > limits.maxBytes) {
      throw new ImageTooLargeError(`the file is ${(size / 2 ** 20).toFixed(1)} MB; the limit is ${(limits.maxBytes / 2 ** 20).toFixed(1)} MB`);
    }
    const image = await readFile(o.image);
    await inspectImage(image, limits);
    show('start', 0);
    const info = await registry.enroll(image, { face, name, onProgress: show });
    if (shown) process.stderr.write('\n');
    process.stdout.write(o.json ? `${JSON.stringify(info, null, 2)}\n` : `${info.id}\n`);
    const f = info.source.faceBox;
    process.stderr.write(
      `enrolled ${o.image} as '${info.name}' in ${((performance.now() - t0) / 1000).toFixed(1)} s\n` +
        `  id:      ${info.id}\n` +
        `  avatar:  ${info.width}x${info.height}, mouth region ${info.mouthBox.w}x${info.mouthBox.h} at (${info.mouthBox.x}, ${info.mouthBox.y})\n` +
        `  face:    ${face === undefined ? 'the only face' : `face ${face}`}, at x=${Math.round(f.x)} y=${Math.round(f.y)} ${Math.round(f.width)}x${Math.round(f.height)} px of the ${info.source.width}x${info.source.height} picture\n` +
        `  cache:   ${registry.cacheDir}\n` +
        `  use it:  POST /api/sessions {"avatar":"${info.id}"} (a running server lists it in GET /api/avatars)\n`,
    );
  } catch (err) {
    if (shown) process.stderr.write('\n');
    throw explain(err, o.image);
  } finally {
    await registry.close();
  }
}
