// PCM helpers: conversions and levels. Pure functions, no state.

export function int16ToFloat32(src: Int16Array): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = src[i] / 32768;
  return out;
}

export function float32ToInt16(src: Float32Array): Int16Array {
  const out = new Int16Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = Math.max(-1, Math.min(1, src[i]));
    out[i] = Math.round(v * 32767);
  }
  return out;
}

/** Interleaved stereo -> mono by averaging the two channels. */
export function downmixStereo(interleaved: Int16Array): Int16Array {
  const out = new Int16Array(interleaved.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = (interleaved[2 * i] + interleaved[2 * i + 1]) >> 1;
  return out;
}

/** Little-endian PCM16 bytes -> samples (copies, so odd byte offsets are fine). */
export function pcm16FromBytes(bytes: Uint8Array): Int16Array {
  if (bytes.byteLength % 2 !== 0) throw new RangeError(`PCM16 payload has an odd length (${bytes.byteLength} bytes)`);
  const out = new Int16Array(bytes.byteLength / 2);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(2 * i, true);
  return out;
}

/** Root mean square of a PCM16 span, in [0, 1]. */
export function rms(samples: Int16Array, start = 0, end = samples.length): number {
  if (end <= start) return 0;
  let acc = 0;
  for (let i = start; i < end; i++) acc += samples[i] * samples[i];
  return Math.sqrt(acc / (end - start)) / 32768;
}
