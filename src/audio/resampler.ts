// Streaming resampler to the pipeline rate (48 kHz), libsamplerate (wasm) under the hood.
// Converters are pooled per input rate: a new one is a new wasm instance (~25 MB) whose first calls take
// ~20 ms of the main thread (measured), long enough to make every session's pacer late when a TTS socket
// starts. The server warms one per rate at start (warmResamplers); a closed resampler's converter is reset
// and kept for the next socket.
import libsamplerate from '@alexanderolsen/libsamplerate-js';
import { float32ToInt16, int16ToFloat32 } from './pcm.ts';
import { PIPELINE_SAMPLE_RATE } from '../media/types.ts';

export const SUPPORTED_INPUT_RATES = [16_000, 24_000, 48_000] as const;
export type InputSampleRate = (typeof SUPPORTED_INPUT_RATES)[number];

const { create, ConverterType } = libsamplerate;
type Src = Awaited<ReturnType<typeof create>>;

/** Idle converters kept per input rate (each holds its wasm memory, ~25 MB of array buffers); more are destroyed. */
const MAX_IDLE_PER_RATE = 2;
const idle = new Map<number, Src[]>();

async function takeConverter(inputRate: number): Promise<Src> {
  const pooled = idle.get(inputRate)?.pop();
  if (pooled) return pooled;
  // "full" keeps filter state between calls, which streaming needs.
  return create(1, inputRate, PIPELINE_SAMPLE_RATE, { converterType: ConverterType.SRC_SINC_FASTEST });
}

function giveBack(inputRate: number, src: Src): void {
  const list = idle.get(inputRate) ?? [];
  if (list.length >= MAX_IDLE_PER_RATE) {
    src.destroy();
    return;
  }
  // Setting a rate re-initialises the converter (libsamplerate-js destroys and inits its state): the next
  // stream starts from a clean filter, as with a new converter.
  src.inputSampleRate = inputRate;
  list.push(src);
  idle.set(inputRate, list);
}

export class Resampler {
  readonly inputRate: number;
  #src: Src | null;
  #closed = false;

  private constructor(inputRate: number, src: Src | null) {
    this.inputRate = inputRate;
    this.#src = src;
  }

  static async create(inputRate: number): Promise<Resampler> {
    if (inputRate === PIPELINE_SAMPLE_RATE) return new Resampler(inputRate, null);
    return new Resampler(inputRate, await takeConverter(inputRate));
  }

  process(samples: Int16Array): Int16Array {
    if (this.#closed) throw new Error('Resampler is closed');
    if (!this.#src) return samples;
    return float32ToInt16(this.#src.full(int16ToFloat32(samples)));
  }

  /** Ends this stream; its converter goes back to the pool. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#src) giveBack(this.inputRate, this.#src);
    this.#src = null;
  }
}

/** Idle converters in the pool, per input rate. */
export function idleResamplers(inputRate: number): number {
  return idle.get(inputRate)?.length ?? 0;
}

/** Makes one converter per input rate ready and run (its first calls are the slow ones), unless one is idle. */
export async function warmResamplers(): Promise<void> {
  for (const rate of SUPPORTED_INPUT_RATES) {
    if (rate === PIPELINE_SAMPLE_RATE || idleResamplers(rate) > 0) continue;
    const r = await Resampler.create(rate);
    const silence = new Int16Array(rate / 10);
    for (let i = 0; i < 3; i++) r.process(silence);
    r.close();
  }
}
