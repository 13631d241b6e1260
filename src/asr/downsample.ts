// 48 kHz -> 16 kHz for speech analysis and recognition (both want 16 kHz mono): a windowed-sinc
// low-pass at 7.2 kHz, then every third sample. Streaming: the filter keeps its history between calls.
import { PIPELINE_SAMPLE_RATE } from '../media/types.ts';

export const SPEECH_SAMPLE_RATE = 16_000;
const FACTOR = PIPELINE_SAMPLE_RATE / SPEECH_SAMPLE_RATE; // 3
const TAPS = 47;

function lowPassKernel(): Float32Array {
  const cutoff = 7_200 / PIPELINE_SAMPLE_RATE; // cycles per sample
  const h = new Float32Array(TAPS);
  const mid = (TAPS - 1) / 2;
  let sum = 0;
  for (let i = 0; i < TAPS; i++) {
    const n = i - mid;
    const sinc = n === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * n) / (Math.PI * n);
    const blackman = 0.42 - 0.5 * Math.cos((2 * Math.PI * i) / (TAPS - 1)) + 0.08 * Math.cos((4 * Math.PI * i) / (TAPS - 1));
    h[i] = sinc * blackman;
    sum += h[i];
  }
  for (let i = 0; i < TAPS; i++) h[i] /= sum;
  return h;
}

const KERNEL = lowPassKernel();

export class Downsampler {
  /** The last TAPS-1 input samples of the previous call, then the new input. */
  #history = new Float32Array(TAPS - 1);
  /** Input samples to skip before the next output (keeps the 3:1 phase across calls). */
  #phase = 0;

  /** 48 kHz PCM16 in, 16 kHz PCM16 out (length about input/3). */
  process(input: Int16Array): Int16Array {
    const buf = new Float32Array(this.#history.length + input.length);
    buf.set(this.#history);
    for (let i = 0; i < input.length; i++) buf[this.#history.length + i] = input[i];
    const out: number[] = [];
    let i = this.#phase;
    for (; i < input.length; i += FACTOR) {
      // Output sample aligned with input sample i (delay (TAPS-1)/2, constant: ignored on a 20 ms grid).
      let acc = 0;
      for (let k = 0; k < TAPS; k++) acc += KERNEL[k] * buf[i + k];
      out.push(acc);
    }
    this.#phase = i - input.length;
    this.#history = buf.slice(buf.length - (TAPS - 1));
    const res = new Int16Array(out.length);
    for (let j = 0; j < out.length; j++) res[j] = Math.max(-32768, Math.min(32767, Math.round(out[j])));
    return res;
  }

  reset(): void {
    this.#history.fill(0);
    this.#phase = 0;
  }
}
