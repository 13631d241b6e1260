// Avatar enrollment over HTTP and from the CLI: real face detection and enrollment (in the server's worker
// thread), real sessions on the enrolled avatar, and every bad upload answered with its status while the server
// keeps serving. Loopback only; no browser.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endSession as endSessionOn, startTestServer } from '../support/server.ts';
import { uploadUntilAnswered } from '../support/upload.ts';
import { twoPeople } from '../support/images.ts';

const PORTRAIT = 'models/build/astronaut.png';
const MIB = 1024 * 1024;

let server: Awaited<ReturnType<typeof startTestServer>>;
let cacheDir: string;
let portrait: Buffer;

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}
interface Avatar {
  id: string;
  name: string;
  width: number;
  height: number;
  faceBox: Box;
  mouthBox: { x: number; y: number; w: number; h: number };
  source: { width: number; height: number; faceBox: Box };
  createdAt: string;
  builtIn: boolean;
}
interface ApiError {
  error: { code: string; message: string; faces?: { index: number; box: Box; score: number }[] };
}

beforeAll(async () => {
  cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), 'facecast-avatars-api-'));
  portrait = await fs.readFile(PORTRAIT);
  server = await startTestServer({ avatarCacheDir: cacheDir, maxEnrollJobs: 2, maxLoadedAvatars: 2 });
});
afterAll(async () => {
  await server?.close();
  if (cacheDir) await fs.rm(cacheDir, { recursive: true, force: true });
});

function upload(body: Uint8Array, type = 'image/png', query = ''): Promise<Response> {
  const bytes = new Uint8Array(body); // an ArrayBuffer-backed copy, as fetch's types want
  return fetch(`${server.base}/api/avatars${query}`, { method: 'POST', headers: { authorization: `Bearer ${server.key}`, 'content-type': type }, body: bytes });
}

async function healthy(): Promise<void> {
  const res = await fetch(`${server.base}/api/health`);
  expect(res.status).toBe(200);
  expect(((await res.json()) as { ok: boolean }).ok).toBe(true);
}

/** Polls a job until it ends; returns every view seen. */
async function poll(statusUrl: string): Promise<Record<string, unknown>[]> {
  const seen: Record<string, unknown>[] = [];
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const res = await fetch(statusUrl, { headers: { authorization: `Bearer ${server.key}` } });
    expect(res.status).toBe(200);
    const view = (await res.json()) as Record<string, unknown>;
    seen.push(view);
    if (view.state === 'done' || view.state === 'failed') return seen;
    await new Promise((r) => setTimeout(r, 40));
  }
  throw new Error(`job did not finish: ${JSON.stringify(seen.at(-1))}`);
}

async function listed(): Promise<Avatar[]> {
  const res = await fetch(`${server.base}/api/avatars`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { avatars: Avatar[] }).avatars;
}

function gradientPng(w = 320, h = 240): Promise<Buffer> {
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = 3 * (y * w + x);
      raw[i] = (x * 255) / w;
      raw[i + 1] = (y * 255) / h;
      raw[i + 2] = 128;
    }
  }
  return sharp(raw, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
}

/** Sends headers declaring `declared` bytes and one chunk of `firstChunk`, then waits for the answer. */
function declaredUpload(declared: number, firstChunk: number): Promise<{ status: number; body: string; sentBytes: number }> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.base}/api/avatars`, { method: 'POST', headers: { authorization: `Bearer ${server.key}`, 'content-type': 'image/png', 'content-length': declared } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body, sentBytes: firstChunk });
        req.destroy();
      });
    });
    req.on('error', reject);
    req.write(Buffer.alloc(firstChunk, 0x89));
  });
}

/** Streams `size` bytes without a declared length (chunked) until the server answers. */
/** Waits (bounded, 30 s) until no enrollment is queued or running. */
async function idleQueue(): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const h = (await (await fetch(`${server.base}/api/health`)).json()) as { enrollment?: { queued: number; running: number } };
    if (h.enrollment && h.enrollment.queued === 0 && h.enrollment.running === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function streamedUpload(size: number): Promise<{ status: number; sentBytes: number }> {
  return uploadUntilAnswered(`${server.base}/api/avatars`, { authorization: `Bearer ${server.key}`, 'content-type': 'image/png' }, size, 0x42);
}

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/facecast.js', ...args], { env: { ...process.env, FACECAST_AVATAR_CACHE: cacheDir }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function createSession(avatar: string): Promise<string> {
  const res = await fetch(`${server.base}/api/sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ avatar }),
  });
  expect(res.status).toBe(201);
  const grant = (await res.json()) as { sessionId: string; avatar: string };
  expect(grant.avatar).toBe(avatar);
  return grant.sessionId;
}

function endSession(id: string): Promise<void> {
  return endSessionOn(server.base, server.key, id);
}

/** Avatars with a loaded renderer, from the health answer. */
async function loadedAvatars(): Promise<string[]> {
  return ((await (await fetch(`${server.base}/api/health`)).json()) as { avatars: string[] }).avatars;
}

describe('enrolling a portrait over HTTP', () => {
  let enrolledId: string;
  const picked: string[] = [];

  it('the astronaut enrolls as a job (202, then done), again with ?wait=1 (201), and is listed', async () => {
    const res = await upload(portrait);
    expect(res.status).toBe(202);
    const accepted = (await res.json()) as { jobId: string; statusUrl: string };
    expect(accepted.statusUrl).toBe(`${server.base}/api/avatars/jobs/${accepted.jobId}`);
    const views = await poll(accepted.statusUrl);
    const done = views.at(-1) as { state: string; avatar: Avatar };
    expect(done.state).toBe('done');
    enrolledId = done.avatar.id;
    expect(enrolledId).toBe(createHash('sha256').update(portrait).digest('hex').slice(0, 16));
    expect(done.avatar).toMatchObject({ width: 512, height: 512, builtIn: false });

    const again = await upload(portrait, 'image/png', '?wait=1&name=Eileen%20Collins');
    expect(again.status).toBe(201);
    const avatar = (await again.json()) as Avatar;
    expect(avatar.id).toBe(enrolledId);
    expect(avatar.name).toBe('Eileen Collins');

    const all = await listed();
    expect(all[0]).toMatchObject({ id: 'astronaut', builtIn: true });
    const mine = all.find((a) => a.id === enrolledId);
    expect(mine).toMatchObject({ name: 'Eileen Collins', width: 512, height: 512, builtIn: false });
    expect(Date.parse(mine!.createdAt)).toBeGreaterThan(Date.now() - 120_000);
    // The face sits in the upper middle of the framed portrait; the mouth region is below the face's centre.
    expect(mine!.faceBox.width).toBeGreaterThan(60);
    expect(mine!.mouthBox.y).toBeGreaterThan(mine!.faceBox.y + mine!.faceBox.height / 2);
    expect(mine!.mouthBox.y).toBeLessThan(mine!.faceBox.y + mine!.faceBox.height);
  });

  it('reports progress through the stages while a new picture enrolls', async () => {
    const jpeg = await sharp(portrait).jpeg({ quality: 90 }).toBuffer();
    const res = await upload(jpeg, 'image/jpeg');
    expect(res.status).toBe(202);
    const views = await poll(((await res.json()) as { statusUrl: string }).statusUrl);
    expect(views.at(-1)!.state).toBe('done');
    const running = views.filter((v) => v.state === 'running');
    expect(running.length).toBeGreaterThan(0);
    const progress = running.map((v) => v.progress as number);
    for (const p of progress) expect(p).toBeGreaterThanOrEqual(0);
    for (const p of progress) expect(p).toBeLessThanOrEqual(1);
    for (let i = 1; i < progress.length; i++) expect(progress[i]).toBeGreaterThanOrEqual(progress[i - 1]!);
    expect(new Set(running.map((v) => v.stage)).size).toBeGreaterThan(1);
  });

  it('a session runs on the enrolled avatar, and an unknown avatar is 404', async () => {
    const res = await fetch(`${server.base}/api/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ avatar: enrolledId }),
    });
    expect(res.status).toBe(201);
    const grant = (await res.json()) as { sessionId: string; avatar: string };
    expect(grant.avatar).toBe(enrolledId);
    const info = await fetch(`${server.base}/api/sessions/${grant.sessionId}`, { headers: { authorization: `Bearer ${server.key}` } });
    expect(info.status).toBe(200);
    expect(((await info.json()) as { avatar: string }).avatar).toBe(enrolledId);
    const health = (await (await fetch(`${server.base}/api/health`)).json()) as { avatars: string[] };
    expect(health.avatars).toContain(enrolledId);
    expect(health.avatars).toContain('astronaut');
    const ended = await fetch(`${server.base}/api/sessions/${grant.sessionId}`, { method: 'DELETE', headers: { authorization: `Bearer ${server.key}` } });
    expect(ended.status).toBe(200);

    const unknown = await fetch(`${server.base}/api/sessions`, { method: 'POST', headers: { authorization: `Bearer ${server.key}` }, body: JSON.stringify({ avatar: '0123456789abcdef' }) });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as ApiError).error.code).toBe('unknown-avatar');
  });

  it('two people: 422 multiple-faces with both boxes, then ?face=N picks one', async () => {
    const pair = await (await twoPeople(portrait)).png().toBuffer();
    const res = await upload(pair, 'image/png', '?wait=1');
    expect(res.status).toBe(422);
    const err = ((await res.json()) as ApiError).error;
    expect(err.code).toBe('multiple-faces');
    expect(err.message).toMatch(/\?face=N/);
    expect(err.faces).toHaveLength(2);
    expect(err.faces!.map((f) => f.index)).toEqual([0, 1]);
    expect(err.faces![0]!.box.x + err.faces![0]!.box.width).toBeLessThan(512);
    expect(err.faces![1]!.box.x).toBeGreaterThan(512);
    for (const f of err.faces!) expect(f.score).toBeGreaterThan(0.5);
    await healthy();

    const pick = async (face: number) => {
      const r = await upload(pair, 'image/png', `?face=${face}&wait=1`);
      expect(r.status).toBe(201);
      return (await r.json()) as Avatar;
    };
    const a1 = await pick(1);
    const a0 = await pick(0);
    expect(a1.id).not.toBe(a0.id);
    expect(a0.source).toMatchObject({ width: 1024, height: 512 });
    // Each avatar is framed on the face asked for: its box in the uploaded picture matches the listed one.
    for (const [a, f] of [[a0, err.faces![0]!], [a1, err.faces![1]!]] as const) {
      expect(Math.abs(a.source.faceBox.x + a.source.faceBox.width / 2 - (f.box.x + f.box.width / 2))).toBeLessThan(20);
    }
    expect(a1.faceBox).not.toEqual(a0.faceBox);
    picked.push(a0.id, a1.id);

    const missing = await upload(pair, 'image/png', '?face=2&wait=1');
    expect(missing.status).toBe(422);
    expect(((await missing.json()) as ApiError).error.code).toBe('no-such-face');
    await healthy();
  });

  it('keeps at most maxLoadedAvatars renderers, releasing one only when no session uses it', async () => {
    // maxLoadedAvatars is 2 here, and the built-in astronaut is pinned.
    const a = await createSession(enrolledId);
    const b = await createSession(picked[1]!);
    expect(await loadedAvatars()).toEqual(['astronaut', enrolledId, picked[1]]); // over the bound: both in use
    await endSession(a);
    expect(await loadedAvatars()).toEqual(['astronaut', picked[1]]);
    const c = await createSession(enrolledId); // loaded again on demand
    await endSession(b);
    expect(await loadedAvatars()).toEqual(['astronaut', enrolledId]);
    await endSession(c);
    expect(await loadedAvatars()).toEqual(['astronaut', enrolledId]);
    await healthy();
  });
});

describe('bad uploads get a clear error and the server keeps serving', () => {
  it('a picture without a face: 422 no-face, waiting or as a job', async () => {
    const gradient = await gradientPng();
    const res = await upload(gradient, 'image/png', '?wait=1');
    expect(res.status).toBe(422);
    const err = ((await res.json()) as ApiError).error;
    expect(err.code).toBe('no-face');
    expect(err.message).toMatch(/no face/);
    await healthy();
    const job = await upload(gradient);
    expect(job.status).toBe(202);
    const last = (await poll(((await job.json()) as { statusUrl: string }).statusUrl)).at(-1) as { state: string; status: number; error: { code: string } };
    expect(last).toMatchObject({ state: 'failed', status: 422, error: { code: 'no-face' } });
    await healthy();
  });

  it('random bytes: 400 bad-image; text/plain: 415; a bad query: 400; no key: 401', async () => {
    const junk = await upload(randomBytes(4096));
    expect(junk.status).toBe(400);
    expect(((await junk.json()) as ApiError).error.code).toBe('bad-image');
    await healthy();
    const text = await upload(Buffer.from('hello, I am not a picture'), 'text/plain');
    expect(text.status).toBe(415);
    expect(((await text.json()) as ApiError).error.message).toMatch(/image\/jpeg/);
    await healthy();
    expect((await upload(portrait, 'image/png', '?face=abc')).status).toBe(400);
    const noKey = await fetch(`${server.base}/api/avatars`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: new Uint8Array(portrait) });
    expect(noKey.status).toBe(401);
    expect((await fetch(`${server.base}/api/avatars/jobs/nope`, { headers: { authorization: `Bearer ${server.key}` } })).status).toBe(404);
    expect((await fetch(`${server.base}/api/avatars/jobs/nope`)).status).toBe(401);
    await healthy();
  });

  it('21 MB declared: 413 while only 64 KiB of it was sent; 21 MB streamed without a length: 413', async () => {
    const declared = await declaredUpload(21 * MIB, 64 * 1024);
    expect(declared.status).toBe(413);
    expect((JSON.parse(declared.body) as ApiError).error.code).toBe('too-large');
    await healthy();
    const streamed = await streamedUpload(21 * MIB);
    expect(streamed.status).toBe(413);
    await healthy();
  });

  it('a 9000x10 picture: 413 from its header (pixel limit)', async () => {
    const wide = await sharp({ create: { width: 9000, height: 10, channels: 3, background: '#808080' } }).png().toBuffer();
    expect(wide.byteLength).toBeLessThan(MIB);
    const res = await upload(wide);
    expect(res.status).toBe(413);
    const err = ((await res.json()) as ApiError).error;
    expect(err.code).toBe('too-large');
    expect(err.message).toMatch(/9000x10/);
    await healthy();
  });

  it("a picture over the decoder's pixel count (20000x20000 in its header) is 413 too, not a failed decode", async () => {
    const big = await startTestServer({ avatarCacheDir: server.server.config.avatarCacheDir, maxImageSide: 32_767 });
    try {
      const res = await fetch(`${big.base}/api/avatars?wait=1`, { method: 'POST', headers: { authorization: `Bearer ${big.key}`, 'content-type': 'image/png' }, body: new Uint8Array(pngHeader(20_000, 20_000)) });
      expect(res.status).toBe(413);
      const err = ((await res.json()) as ApiError).error;
      expect(err).toMatchObject({ code: 'too-large', message: expect.stringMatching(/20000x20000 pixels; at most \d+ pixels/) });
    } finally {
      await big.close();
    }
  });

  it('clients that vanish mid-upload or while waiting leave the server serving, and the enrollment still lands', async () => {
    await new Promise<void>((resolve, reject) => {
      const req = request(`${server.base}/api/avatars`, { method: 'POST', headers: { authorization: `Bearer ${server.key}`, 'content-type': 'image/png', 'content-length': portrait.length } });
      req.on('error', () => resolve());
      req.on('response', () => reject(new Error('answered a half upload')));
      req.write(portrait.subarray(0, portrait.length >> 1), () => setTimeout(() => (req.destroy(), resolve()), 50));
    });
    await healthy();
    const tilted = await sharp(portrait).rotate(4, { background: '#ffffff' }).png().toBuffer();
    const gone = new AbortController();
    const waiting = upload(tilted, 'image/png', '?wait=1&name=Tilted');
    const aborted = fetch(`${server.base}/api/avatars?wait=1&name=Tilted`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.key}`, 'content-type': 'image/png' },
      body: new Uint8Array(tilted),
      signal: gone.signal,
    });
    setTimeout(() => gone.abort(), 150);
    await expect(aborted).rejects.toThrow();
    await healthy();
    const res = await waiting;
    expect(res.status).toBe(201);
    const id = ((await res.json()) as Avatar).id;
    expect((await listed()).find((a) => a.id === id)).toMatchObject({ name: 'Tilted' });
  });

  it('uploads still being sent hold the queue: one more is refused 503 before its body is read, and a client that vanishes frees its place', async () => {
    await idleQueue();
    // Two slow clients (maxEnrollJobs is 2 here): 5 MB declared, 64 KiB sent, then silence.
    const slow = [0, 1].map(() => {
      const req = request(`${server.base}/api/avatars`, { method: 'POST', headers: { authorization: `Bearer ${server.key}`, 'content-type': 'image/png', 'content-length': 5 * MIB } });
      req.on('error', () => undefined);
      req.write(Buffer.alloc(64 * 1024, 1));
      return req;
    });
    await new Promise((r) => setTimeout(r, 300));
    const refused = await uploadUntilAnswered(`${server.base}/api/avatars`, { authorization: `Bearer ${server.key}`, 'content-type': 'image/png', 'content-length': 18 * MIB }, 18 * MIB, 0x42);
    expect(refused.status).toBe(503);
    expect(refused.sentBytes).toBeLessThan(18 * MIB);
    slow.forEach((req) => req.destroy());
    await new Promise((r) => setTimeout(r, 300));
    const small = await sharp(portrait).resize(300, 300).png().toBuffer();
    expect((await upload(small)).status).toBe(202);
    await idleQueue();
  });

  it('a full enrollment queue answers 503 and recovers', async () => {
    // maxEnrollJobs is 2 here: three new pictures at once, the third is refused while two are in the queue.
    // Start from an idle queue: a job of an earlier test (its client gone) may still be running.
    await idleQueue();
    const variants = await Promise.all([500, 496, 492].map((side) => sharp(portrait).resize(side, side).png().toBuffer()));
    const answers = await Promise.all(variants.map((v) => upload(v)));
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses).toEqual([202, 202, 503]);
    const busy = answers.find((r) => r.status === 503)!;
    expect(((await busy.json()) as ApiError).error.code).toBe('busy');
    for (const r of answers.filter((a) => a.status === 202)) {
      const last = (await poll(((await r.json()) as { statusUrl: string }).statusUrl)).at(-1)!;
      expect(last.state).toBe('done');
    }
    expect((await upload(variants[2]!, 'image/png', '?wait=1')).status).toBe(201);
    await healthy();
  });
});

describe('facecast enroll', () => {
  it('exits 1 with "no face" for a picture without one', async () => {
    const file = path.join(cacheDir, 'gradient.png');
    await fs.writeFile(file, await gradientPng());
    const { code, stderr, stdout } = await cli(['enroll', file]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/no face found/);
    expect(stdout).toBe('');
    await healthy();
  });

  it('enrolls with a progress bar, prints the id, and the running server lists it', async () => {
    const file = path.join(cacheDir, 'mirrored.png');
    const mirrored = await sharp(portrait).flop().png().toBuffer();
    await fs.writeFile(file, mirrored);
    const { code, stderr, stdout } = await cli(['enroll', file, '--name', 'Mirrored']);
    expect(code).toBe(0);
    const id = stdout.trim();
    expect(id).toBe(createHash('sha256').update(mirrored).digest('hex').slice(0, 16));
    expect(stderr).toMatch(/\[#{30}\] 100%/);
    expect(stderr).toContain(`id:      ${id}`);
    expect((await listed()).find((a) => a.id === id)).toMatchObject({ name: 'Mirrored', builtIn: false });
  });
});

/** A PNG of its signature, header (IHDR: RGB, 8 bits), one byte of image data and its end: a header to check, no image. */
function pngHeader(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(1))), chunk('IEND', Buffer.alloc(0))]);
}
