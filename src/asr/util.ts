// Small helpers shared by the recognisers.

/** Decoder tokens that are not words: sentence marks, silence, fillers and noises. */
const NON_WORDS = /^(<s>|<\/s>|<sil>|\[.*\]|\+\+.*\+\+|\(.*\))$/i;

/** "the(2)" -> "the"; fillers and markers -> null. */
export function wordFromToken(token: string): string | null {
  if (NON_WORDS.test(token)) return null;
  const w = token.replace(/\(\d+\)$/, '').toLowerCase();
  return w.length > 0 ? w : null;
}

/** The last N latencies, for a median (bounded: drop-oldest). */
export class LatencyWindow {
  readonly #values: number[] = [];
  constructor(readonly size = 64) {}

  add(v: number): void {
    this.#values.push(v);
    if (this.#values.length > this.size) this.#values.shift();
  }

  median(): number {
    return this.quantile(0.5);
  }

  /** q in [0, 1]; nearest rank. 0 when empty. */
  quantile(q: number): number {
    if (this.#values.length === 0) return 0;
    const s = [...this.#values].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  }
}

/** A RIFF/WAVE file around 16-bit mono PCM. */
export function wavFile(samples: Int16Array, sampleRate: number): Uint8Array<ArrayBuffer> {
  const data = samples.byteLength;
  const buf = new ArrayBuffer(44 + data);
  const v = new DataView(buf);
  const ascii = (o: number, s: string) => [...s].forEach((c, i) => v.setUint8(o + i, c.charCodeAt(0)));
  ascii(0, 'RIFF');
  v.setUint32(4, 36 + data, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, 1, true);
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * 2, true);
  v.setUint16(32, 2, true);
  v.setUint16(34, 16, true);
  ascii(36, 'data');
  v.setUint32(40, data, true);
  new Int16Array(buf, 44).set(samples);
  return new Uint8Array(buf);
}

/** Words of a text with their rough syllable weight (vowel groups), for spreading over a span without timings. */
export function syllableWeight(word: string): number {
  const groups = word.toLowerCase().match(/[aeiouy]+/g)?.length ?? 0;
  return Math.max(1, groups - (word.length > 3 && /e$/i.test(word) && groups > 1 ? 1 : 0));
}
