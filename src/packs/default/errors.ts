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

/** More than one face was found; `boxes` are the faces, in source-image pixels, best score first. */
export class MultipleFacesError extends Error {
  override readonly name = 'MultipleFacesError';
  readonly boxes: readonly Box[];
  constructor(boxes: readonly Box[]) {
    super(`${boxes.length} faces found in the image; the default pack animates one portrait (pick one and crop it)`);
    this.boxes = Object.freeze(boxes.map((b) => Object.freeze({ ...b })));
  }
}

/** The renderer was used after close(). */
export class RendererClosedError extends Error {
  override readonly name = 'RendererClosedError';
  constructor() {
    super('renderer is closed');
  }
}
