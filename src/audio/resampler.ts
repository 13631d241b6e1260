// Streaming resampler to the pipeline rate (48 kHz), libsamplerate (wasm) under the hood.
import libsamplerate from '@alexanderolsen/libsamplerate-js';
import { float32ToInt16, int16ToFloat32 } from './pcm.ts';
import { PIPELINE_SAMPLE_RATE } from '../media/types.ts';

export const SUPPORTED_INPUT_RATES = [16_000, 24_000, 48_000] as const;
export type InputSampleRate = (typeof SUPPORTED_INPUT_RATES)[number];

const { create, ConverterType } = libsamplerate;
type Src = Awaited<ReturnType<typeof create>>;

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
    // "full" keeps filter state between calls, which streaming needs.
    const src = await create(1, inputRate, PIPELINE_SAMPLE_RATE, { converterType: ConverterType.SRC_SINC_FASTEST });
    return new Resampler(inputRate, src);
  }

  process(samples: Int16Array): Int16Array {
    if (this.#closed) throw new Error('Resampler is closed');
    if (!this.#src) return samples;
    return float32ToInt16(this.#src.full(int16ToFloat32(samples)));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#src?.destroy();
    this.#src = null;
  }
}
