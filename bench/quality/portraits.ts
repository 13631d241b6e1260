// Portraits for the quality bench. The shipped astronaut (NASA, public domain) and two faces cropped from the
// demo photos inside the installed npm package @vladmandic/face-api (MIT; see models/README.md for the caveat):
// independent identities, a closed mouth and a broad smile. Used as test inputs only, never shipped as avatars.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';
import { builtinPortraitPath } from '../../src/packs/default/index.ts';

export interface Portrait {
  readonly name: string;
  readonly source: string;
  readonly licence: string;
  /** PNG or JPEG bytes, one face. */
  readonly image: Uint8Array;
}

interface Crop {
  readonly name: string;
  readonly file: string;
  /** The face's detector box in the source photo (found once with face-api SSD, pixels). */
  readonly face: { x: number; y: number; width: number; height: number };
}

const FACE_API_CROPS: readonly Crop[] = [
  { name: 'sample5-left', file: 'sample5.jpg', face: { x: 787, y: 109, width: 156, height: 212 } },
  { name: 'sample3-right', file: 'sample3.jpg', face: { x: 1514, y: 292, width: 170, height: 280 } },
];

export const PORTRAIT_NAMES: readonly string[] = ['astronaut', ...FACE_API_CROPS.map((c) => c.name)];

function faceApiDemoDir(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');
}

/** A square head-and-shoulders crop around the face (2x the face height), as PNG. */
async function cropFace(c: Crop): Promise<Uint8Array> {
  const src = sharp(path.join(faceApiDemoDir(), c.file));
  const meta = await src.metadata();
  const side = Math.round(c.face.height * 2);
  const left = Math.round(Math.min(Math.max(c.face.x + c.face.width / 2 - side / 2, 0), (meta.width ?? side) - side));
  const top = Math.round(Math.min(Math.max(c.face.y + c.face.height * 0.55 - side * 0.45, 0), (meta.height ?? side) - side));
  const png = await src.extract({ left, top, width: side, height: side }).png().toBuffer();
  return new Uint8Array(png);
}

export async function loadPortrait(name: string): Promise<Portrait> {
  if (name === 'astronaut') {
    return {
      name,
      source: 'models/build/astronaut.png (Debian python3-imageio; Eileen Collins, NASA)',
      licence: 'public domain',
      image: new Uint8Array(await readFile(builtinPortraitPath())),
    };
  }
  const c = FACE_API_CROPS.find((x) => x.name === name);
  if (!c) throw new RangeError(`unknown portrait '${name}' (known: ${PORTRAIT_NAMES.join(', ')})`);
  return {
    name,
    source: `npm @vladmandic/face-api@1.7.15 demo/${c.file}, face at ${c.face.x},${c.face.y}, cropped`,
    licence: 'MIT (the package licence; the photo carries no separate credit)',
    image: await cropFace(c),
  };
}
