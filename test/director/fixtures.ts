// Speech and stand-in servers for the director and ASR tests: espeak-ng / flite speech as 48 kHz PCM16, chunked on
// a media timeline, and a local HTTP server that speaks the chat completions protocol.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AudioChunk } from '../../src/media/types.ts';

const DIR = join(tmpdir(), 'facecast-director-fixtures');

/** Speech as 48 kHz mono PCM16. engine 'espeak' (args e.g. ['-s', '120']) or 'flite' (args e.g. ['-voice', 'kal']). Cached. */
export function speech(engine: 'espeak' | 'flite', text: string, args: string[] = [], gain = 1): Int16Array {
  mkdirSync(DIR, { recursive: true });
  const tag = createHash('sha1').update(JSON.stringify([engine, text, args, gain])).digest('hex').slice(0, 16);
  const wav = join(DIR, `${tag}.wav`);
  const raw = join(DIR, `${tag}.raw`);
  if (!existsSync(raw)) {
    if (engine === 'espeak') execFileSync('espeak-ng', [...args, '-w', wav, text], { stdio: ['ignore', 'ignore', 'pipe'] });
    else execFileSync('flite', [...args, '-t', text, '-o', wav], { stdio: ['ignore', 'ignore', 'pipe'] });
    execFileSync('sox', [wav, '-t', 'raw', '-r', '48000', '-c', '1', '-b', '16', '-e', 'signed-integer', raw, 'vol', String(gain)], { stdio: ['ignore', 'ignore', 'pipe'] });
  }
  const buf = readFileSync(raw);
  return new Int16Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

export function silence(seconds: number): Int16Array {
  return new Int16Array(Math.round(seconds * 48_000));
}

export function concat(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** 20 ms chunks from startUs (the tail padded with silence). */
export function chunks(samples: Int16Array, startUs = 0, epoch = 0): AudioChunk[] {
  const out: AudioChunk[] = [];
  for (let o = 0; o < samples.length; o += 960) {
    const c = new Int16Array(960);
    c.set(samples.subarray(o, Math.min(samples.length, o + 960)));
    out.push({ ptsUs: startUs + (o / 960) * 20_000, samples: c, epoch });
  }
  return out;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function until(cond: () => boolean, timeoutMs = 5_000, stepMs = 10): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('condition not met in time');
    await sleep(stepMs);
  }
}

export interface StandIn {
  readonly url: string;
  readonly requests: { path: string; headers: IncomingMessage['headers']; body: Buffer }[];
  close(): Promise<void>;
}

/** A local HTTP server on 127.0.0.1; handler decides every answer. */
export async function standIn(handler: (req: IncomingMessage, body: Buffer, res: ServerResponse, n: number) => void | Promise<void>): Promise<StandIn> {
  const requests: StandIn['requests'] = [];
  const open = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      requests.push({ path: req.url ?? '', headers: req.headers, body });
      open.add(res);
      res.on('close', () => open.delete(res));
      void handler(req, body, res, requests.length);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        for (const res of open) res.destroy();
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

/** A chat completion whose message content is `content`. */
export function completion(content: string): unknown {
  return { id: 'cmpl-1', object: 'chat.completion', choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content } }] };
}

/** The window the director asked about, read from the user message of a chat request. */
export function askedWindow(body: Buffer): { startUs: number; endUs: number } {
  const req = JSON.parse(body.toString()) as { messages: { role: string; content: string }[] };
  const user = JSON.parse(req.messages.find((m) => m.role === 'user')!.content) as { window: { startUs: number; endUs: number } };
  return user.window;
}

/** One shot covering the window: surprised, looking around, a tilt in the middle (unlike anything the rules make). */
export function standInPlan(w: { startUs: number; endUs: number }): string {
  return JSON.stringify({
    shots: [
      {
        startUs: w.startUs,
        endUs: w.endUs,
        emotion: 'surprised',
        intensity: 0.8,
        gaze: 'camera',
        headMotion: 'lively',
        motionAmplitude: 0.7,
        gestures: [{ kind: 'tilt', atUs: Math.round((w.startUs + w.endUs) / 2), strength: 0.9 }],
        camera: 'medium',
        description: 'stand-in plan',
        negative: { avoid: ['closed-eyes'], description: 'keep the eyes open' },
      },
    ],
  });
}

/** Word error rate: word-level Levenshtein distance / reference length. */
export function wordErrorRate(reference: string, hypothesis: string): number {
  const norm = (s: string) => s.toLowerCase().replace(/[^a-z' ]/g, ' ').split(/\s+/).filter(Boolean);
  const r = norm(reference);
  const h = norm(hypothesis);
  const d = Array.from({ length: r.length + 1 }, (_, i) => Array.from({ length: h.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= r.length; i++) {
    for (let j = 1; j <= h.length; j++) d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (r[i - 1] === h[j - 1] ? 0 : 1));
  }
  return d[r.length]![h.length]! / Math.max(1, r.length);
}
