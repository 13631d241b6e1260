// Forced phone alignment with CMU Sphinx (Debian's pocketsphinx + pocketsphinx-en-us, BSD-2), in a child process:
// for audio known ahead (a TTS turn, a file). Each phone becomes a "word" of a one-path JSGF grammar, so `-time yes`
// reports phone times. About 0.05 s of CPU for 10 s of audio. English acoustic model only; the in-process
// aligner (align.ts) is the fallback and the streaming path.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PIPELINE_SAMPLE_RATE } from '../../media/types.ts';
import type { Phone, PronouncedWord, TimedPhone } from './types.ts';

const run = promisify(execFile);

export class ForcedAlignmentError extends Error {
  override readonly name = 'ForcedAlignmentError';
}

export const POCKETSPHINX_BIN = 'pocketsphinx_continuous';

/** 48 kHz -> 16 kHz: a 31-tap windowed-sinc low-pass at 7 kHz, every third sample. */
function to16k(samples: Int16Array): Int16Array {
  const taps = 31;
  const h = Float64Array.from({ length: taps }, (_, i) => {
    const x = i - (taps - 1) / 2;
    const fc = 7000 / PIPELINE_SAMPLE_RATE;
    const sinc = x === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * x) / (Math.PI * x);
    return sinc * (0.54 - 0.46 * Math.cos((2 * Math.PI * i) / (taps - 1)));
  });
  const out = new Int16Array(Math.floor(samples.length / 3));
  for (let n = 0; n < out.length; n++) {
    let acc = 0;
    for (let k = 0; k < taps; k++) {
      const j = 3 * n + k - (taps - 1) / 2;
      if (j >= 0 && j < samples.length) acc += h[k] * samples[j];
    }
    out[n] = Math.max(-32768, Math.min(32767, Math.round(acc)));
  }
  return out;
}

function wav16k(pcm: Int16Array): Buffer {
  const head = Buffer.alloc(44);
  head.write('RIFF', 0);
  head.writeUInt32LE(36 + pcm.byteLength, 4);
  head.write('WAVEfmt ', 8);
  head.writeUInt32LE(16, 16);
  head.writeUInt16LE(1, 20);
  head.writeUInt16LE(1, 22);
  head.writeUInt32LE(16_000, 24);
  head.writeUInt32LE(32_000, 28);
  head.writeUInt16LE(2, 32);
  head.writeUInt16LE(16, 34);
  head.write('data', 36);
  head.writeUInt32LE(pcm.byteLength, 40);
  return Buffer.concat([head, Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength)]);
}

/**
 * Phone times (relative to the first sample) for words spoken in `samples` (mono PCM16, 48 kHz). Rejects with
 * ForcedAlignmentError when the binary is missing or the grammar cannot be matched.
 */
export async function forcedAlign(samples: Int16Array, words: readonly PronouncedWord[], signal?: AbortSignal): Promise<TimedPhone[]> {
  const seq: Phone[] = words.flatMap((w) => w.phones);
  if (seq.length === 0) return [];
  const dir = await mkdtemp(path.join(tmpdir(), 'facecast-align-'));
  try {
    const uniq = [...new Set(seq)];
    await writeFile(path.join(dir, 'phones.dict'), uniq.map((p) => `ph_${p.toLowerCase()} ${p}\n`).join(''));
    await writeFile(path.join(dir, 'g.jsgf'), `#JSGF V1.0;\ngrammar g;\npublic <s> = ${seq.map((p) => `ph_${p.toLowerCase()}`).join(' ')} ;\n`);
    await writeFile(path.join(dir, 'a.wav'), wav16k(to16k(samples)));
    // Wide beams: with one path in the grammar, pruning only loses the match. No VAD: one utterance, pauses and all.
    const args = ['-infile', 'a.wav', '-jsgf', 'g.jsgf', '-dict', 'phones.dict', '-time', 'yes', '-beam', '1e-100', '-pbeam', '1e-100', '-wbeam', '1e-80', '-remove_silence', 'no'];
    const { stdout } = await run(POCKETSPHINX_BIN, args, { cwd: dir, signal, maxBuffer: 1 << 24 }).catch((err: Error) => {
      throw new ForcedAlignmentError(`${POCKETSPHINX_BIN} failed: ${err.message}`, { cause: err });
    });
    const out: TimedPhone[] = [];
    for (const line of stdout.split('\n')) {
      const m = /^ph_([a-z]+) ([0-9.]+) ([0-9.]+)/.exec(line);
      if (m) out.push({ phone: m[1].toUpperCase() as Phone, startUs: Math.round(Number(m[2]) * 1e6), endUs: Math.round((Number(m[3]) + 0.01) * 1e6) });
    }
    if (out.length !== seq.length) throw new ForcedAlignmentError(`aligned ${out.length} of ${seq.length} phones (the audio does not match the text?)`);
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
