// Named errors of the default pack; callers branch on the class (house rule 4), never on the message.
import type { Box } from './types.ts';

/** The bytes are not an image sharp can decode (not JPEG/PNG/WebP/..., or corrupt). */
export class ImageDecodeError extends Error {
  override readonly name = 'ImageDecodeError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The portrait decoded, but no face was found in it. */
export class NoFaceError extends Error {
  override readonly name = 'NoFaceError';
  constructor(message = 'no face found in the image') {
    super(message);
  }
}

/**
 * More than one face was found; `boxes` are the faces in source-image pixels, numbered left to right as
 * enrollPortrait's `face` option picks them; `scores` are their detector scores in the same order.
 */
export class MultipleFacesError extends Error {
  override readonly name = 'MultipleFacesError';
  readonly boxes: readonly Box[];
  readonly scores: readonly number[];
  constructor(boxes: readonly Box[], scores: readonly number[] = []) {
    super(`${boxes.length} faces found in the image; the default pack animates one face: pick one with the face option`);
    this.boxes = Object.freeze(boxes.map((b) => Object.freeze({ ...b })));
    this.scores = Object.freeze([...scores]);
  }
}

/** The `face` option asked for a face the picture does not have; `boxes`/`scores` as in MultipleFacesError. */
export class FaceIndexError extends Error {
  override readonly name = 'FaceIndexError';
  readonly index: number;
  readonly boxes: readonly Box[];
  readonly scores: readonly number[];
  constructor(index: number, boxes: readonly Box[], scores: readonly number[] = []) {
    super(`face ${index} was asked for but the image has ${boxes.length === 1 ? 'one face (face 0)' : `${boxes.length} faces (0-${boxes.length - 1})`}`);
    this.index = index;
    this.boxes = Object.freeze(boxes.map((b) => Object.freeze({ ...b })));
    this.scores = Object.freeze([...scores]);
  }
}

/** The renderer was used after close(). */
export class RendererClosedError extends Error {
  override readonly name = 'RendererClosedError';
  constructor() {
    super('renderer is closed');
  }
}
