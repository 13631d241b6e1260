// Speech fixtures for tests and benches, made with espeak-ng and sox (Debian packages).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SpeechFixture {
  /** 48 kHz mono PCM16 WAV (for Chromium's fake microphone). */
  wav48: string;
  /** Raw PCM16 LE mono at 24 kHz and 48 kHz (for the TTS ingest). */
  raw24: string;
  raw48: string;
  /** The 48 kHz samples. */
  samples: Int16Array;
  durationS: number;
}

export const FIRST_SENTENCE = 'Hello, I am the facecast avatar. I can speak with your voice, in real time.';
export const SECOND_SENTENCE = 'After a short pause, I keep on talking, and my mouth follows every word you say.';

function run(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * leadS of silence, the first sentence, gapS of silence, the second sentence, tailS of
 * silence. Cached in dir by its parameters.
 */
export function makeSpeechFixture(dir: string, opts: { leadS?: number; gapS?: number; tailS?: number; voice?: string } = {}): SpeechFixture {
  const { leadS = 2, gapS = 3, tailS = 1, voice = 'en' } = opts;
  mkdirSync(dir, { recursive: true });
  const tag = `speech-${voice}-${leadS}-${gapS}-${tailS}`;
  const wav48 = join(dir, `${tag}.wav`);
  const raw24 = join(dir, `${tag}-24k.raw`);
  const raw48 = join(dir, `${tag}-48k.raw`);
  if (!existsSync(wav48) || !existsSync(raw24) || !existsSync(raw48)) {
    const a = join(dir, `${tag}-a.wav`);
    const b = join(dir, `${tag}-b.wav`);
    run('espeak-ng', ['-v', voice, '-s', '150', '-w', a, FIRST_SENTENCE]);
    run('espeak-ng', ['-v', voice, '-s', '150', '-w', b, SECOND_SENTENCE]);
    const fmt = ['-r', '48000', '-c', '1', '-b', '16', '-e', 'signed-integer'];
    const sil = (name: string, s: number) => {
      const p = join(dir, `${tag}-${name}.wav`);
      run('sox', ['-n', ...fmt, p, 'trim', '0', String(s)]);
      return p;
    };
    const a48 = join(dir, `${tag}-a48.wav`);
    const b48 = join(dir, `${tag}-b48.wav`);
    run('sox', [a, ...fmt, a48]);
    run('sox', [b, ...fmt, b48]);
    run('sox', [sil('lead', leadS), a48, sil('gap', gapS), b48, sil('tail', tailS), wav48]);
    run('sox', [wav48, '-t', 'raw', '-r', '24000', '-c', '1', '-b', '16', '-e', 'signed-integer', raw24]);
    run('sox', [wav48, '-t', 'raw', ...fmt, raw48]);
  }
  const buf = readFileSync(raw48);
  const samples = new Int16Array(buf.buffer, buf.byteOffset, buf.byteLength / 2);
  return { wav48, raw24, raw48, samples, durationS: samples.length / 48_000 };
}

/** PCM16 at 24 kHz: syllable-like 220 Hz bursts (0.2 s on, 0.1 s off), `seconds` long. No tools needed. */
export function speechLike(seconds: number): Buffer {
  const rate = 24_000;
  const s = new Int16Array(Math.round(seconds * rate));
  for (let i = 0; i < s.length; i++) s[i] = (i / rate) % 0.3 < 0.2 ? Math.round(9000 * Math.sin((2 * Math.PI * 220 * i) / rate)) : 0;
  return Buffer.from(s.buffer);
}
