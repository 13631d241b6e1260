// Speech clips for the quality bench and tests: three synthesisers from Debian packages (espeak-ng, flite,
// festival's text2wave), two sentences with a pause inside, as 48 kHz mono PCM16. Cached under var/quality/.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type VoiceName = 'espeak-ng' | 'flite' | 'festival';
export const VOICES: readonly VoiceName[] = ['espeak-ng', 'flite', 'festival'];

export const SENTENCES = [
  'Maybe we should move the meeting to Monday morning, before the busy week begins.',
  'Sure, I will see you soon, so please bring the blue paper with you.',
] as const;

export interface SpeechClip {
  readonly voice: VoiceName;
  readonly text: string;
  /** Mono PCM16 at 48 kHz. */
  readonly samples: Int16Array;
  readonly durationS: number;
  /** Where each sentence's audio starts and ends (seconds), as placed. */
  readonly sentences: readonly { readonly text: string; readonly startS: number; readonly endS: number }[];
  readonly wav: string;
}

export interface ClipOptions {
  leadS?: number;
  gapS?: number;
  tailS?: number;
  /** Only the first sentence (short test clips). */
  oneSentence?: boolean;
}

const FMT = ['-r', '48000', '-c', '1', '-b', '16', '-e', 'signed-integer'];

function run(cmd: string, args: string[], input?: string): void {
  execFileSync(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'], input });
}

function synthesize(voice: VoiceName, text: string, out: string): void {
  if (voice === 'espeak-ng') run('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', out, text]);
  else if (voice === 'flite') run('flite', ['-voice', 'slt', '-t', text, '-o', out]);
  else run('text2wave', ['-o', out], text);
}

function readRaw(path: string): Int16Array {
  const buf = readFileSync(path);
  return new Int16Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

/** Synthesises (or reads from the cache) lead silence, sentence 1, a pause, sentence 2, tail silence. */
export function speechClip(voice: VoiceName, dir = 'var/quality', opts: ClipOptions = {}): SpeechClip {
  const { leadS = 0.6, gapS = 1.8, tailS = 0.8, oneSentence = false } = opts;
  mkdirSync(dir, { recursive: true });
  const texts = oneSentence ? SENTENCES.slice(0, 1) : [...SENTENCES];
  const tag = `${voice}-${texts.length}-${leadS}-${gapS}-${tailS}`;
  const raws = texts.map((text, i) => {
    const raw = join(dir, `${voice}-s${i}.raw`);
    if (!existsSync(raw)) {
      const wav = join(dir, `${voice}-s${i}.wav`);
      synthesize(voice, text, wav);
      // Trim the synthesiser's own leading/trailing silence so that our pauses are what we say they are.
      run('sox', [wav, '-t', 'raw', ...FMT, `${raw}.tmp`, 'silence', '1', '0.01', '0.1%', 'reverse', 'silence', '1', '0.01', '0.1%', 'reverse']);
      renameSync(`${raw}.tmp`, raw);
    }
    return readRaw(raw);
  });
  const sr = 48_000;
  const gaps = [leadS, ...texts.slice(1).map(() => gapS), tailS].map((s) => Math.round(s * sr));
  const total = gaps.reduce((a, b) => a + b, 0) + raws.reduce((a, r) => a + r.length, 0);
  const samples = new Int16Array(total);
  const sentences: { text: string; startS: number; endS: number }[] = [];
  let at = gaps[0];
  raws.forEach((r, i) => {
    samples.set(r, at);
    sentences.push({ text: texts[i], startS: at / sr, endS: (at + r.length) / sr });
    at += r.length + gaps[i + 1];
  });
  const wav = join(dir, `${tag}.wav`);
  if (!existsSync(wav)) {
    const raw = join(dir, `${tag}.raw`);
    writeFileSync(raw, samples);
    run('sox', ['-t', 'raw', ...FMT, raw, wav]);
  }
  return { voice, text: texts.join(' '), samples, durationS: total / sr, sentences, wav };
}
