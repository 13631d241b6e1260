// `facecast render --avatar photo.jpg --audio speech.wav --out clip.mp4`: the same cascade as
// a live session, offline, into an MP4 (H.264 + AAC) with ffmpeg.
import { spawn, execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { writeFile } from 'node:fs/promises';
import { renderClip } from './clip.ts';
import { DefaultRenderer, enrollPortrait } from '../packs/default/index.ts';
import { loadVisemeDictionary } from './dictionary.ts';

const run = promisify(execFile);

export interface RenderCommandOptions {
  avatar: string;
  audio: string;
  out: string;
  cacheDir?: string;
  progress?: boolean;
  /** Transcript of the audio, for the director and the mouth's visemes. */
  text?: string;
  instruction?: string[];
  /** Write the director's rounds here (JSON). */
  trace?: string;
}

/** Any audio file ffmpeg reads -> mono PCM16 @ 48 kHz. */
export async function decodeAudio(path: string): Promise<Int16Array> {
  const { stdout } = await run('ffmpeg', ['-v', 'error', '-i', path, '-f', 's16le', '-ac', '1', '-ar', '48000', 'pipe:1'], { encoding: 'buffer', maxBuffer: 1 << 30 }).catch((err: Error & { stderr?: Buffer }) => {
    throw new Error(`cannot read audio ${path}: ${err.stderr?.toString().trim() || err.message}`);
  });
  const buf = Buffer.from(stdout);
  return new Int16Array(buf.buffer, buf.byteOffset, buf.byteLength >> 1);
}

function bar(done: number, total: number): string {
  const w = 30;
  const k = Math.round((done / total) * w);
  return `[${'#'.repeat(k)}${'.'.repeat(w - k)}] ${done}/${total} frames`;
}

export async function renderCommand(o: RenderCommandOptions): Promise<void> {
  const say = (s: string) => process.stderr.write(`${s}\n`);
  const image = await readFile(o.avatar).catch(() => {
    throw new Error(`cannot read avatar image ${o.avatar}`);
  });
  // Loaded while the portrait enrolls (never rejects); renderClip would otherwise load it itself.
  const dictionary = o.text ? loadVisemeDictionary() : Promise.resolve(null);
  say(`enrolling ${o.avatar}...`);
  const avatar = await enrollPortrait(image, { cacheDir: o.cacheDir });
  const audio = await decodeAudio(o.audio);
  const renderer = await DefaultRenderer.create(avatar, { intraOpThreads: 1 });
  const dictionaryWarning = await dictionary;
  if (dictionaryWarning) say(`warning: ${dictionaryWarning}`);
  const ff = spawn(
    'ffmpeg',
    ['-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${renderer.width}x${renderer.height}`, '-r', '25', '-i', 'pipe:0', '-i', o.audio, '-map', '0:v', '-map', '1:a', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '128k', '-shortest', '-movflags', '+faststart', o.out],
    { stdio: ['pipe', 'ignore', 'pipe'] },
  );
  let stderr = '';
  ff.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number>((resolve) => ff.on('close', (code) => resolve(code ?? 1)));
  const t0 = Date.now();
  try {
    const result = await renderClip({
      avatar,
      renderer,
      audio,
      text: o.text,
      instructions: o.instruction,
      onFrame: async (frame) => {
        if (!ff.stdin.write(frame.i420)) await new Promise((r) => ff.stdin.once('drain', r));
      },
      onProgress: (done, total) => {
        if (o.progress !== false && (done % 25 === 0 || done === total)) process.stderr.write(`\r${bar(done, total)}`);
      },
    });
    if (o.trace) {
      await writeFile(o.trace, JSON.stringify({ instructions: result.instructions, rounds: result.trace }, null, 2) + '\n');
      say(`\nwrote the director's trace to ${o.trace}`);
    }
  } finally {
    ff.stdin.end();
    await renderer.close();
  }
  const code = await exited;
  process.stderr.write('\n');
  if (code !== 0) throw new Error(`ffmpeg failed (${code}): ${stderr.trim()}`);
  say(`wrote ${o.out} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
