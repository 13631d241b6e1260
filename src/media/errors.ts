// Small named error classes for the media folder, so callers branch on the class (house rule 4).

/** A received RTP packet is malformed. */
export class RtpParseError extends Error {
  override readonly name = 'RtpParseError';
}

/** A received RTCP (compound) packet is malformed. */
export class RtcpParseError extends Error {
  override readonly name = 'RtcpParseError';
}

/** A VP8 RTP payload (descriptor) is malformed. */
export class Vp8PayloadError extends Error {
  override readonly name = 'Vp8PayloadError';
}

/** An IVF byte stream is malformed. */
export class IvfParseError extends Error {
  override readonly name = 'IvfParseError';
}

/** Options given to a media entity failed validation. */
export class MediaOptionsError extends Error {
  override readonly name = 'MediaOptionsError';
}

/** A frame or chunk handed to a media stage does not fit its contract (size, pts order). */
export class MediaInputError extends Error {
  override readonly name = 'MediaInputError';
}

/** Something was used after close(). */
export class MediaClosedError extends Error {
  override readonly name = 'MediaClosedError';
}

export type Vp8EncoderErrorCode = 'ffmpeg-missing' | 'ffmpeg-spawn-failed' | 'ffmpeg-exited' | 'ivf-corrupt';

/** The ffmpeg encoder process failed; `code` says how. */
export class Vp8EncoderError extends Error {
  override readonly name = 'Vp8EncoderError';
  constructor(
    readonly code: Vp8EncoderErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
