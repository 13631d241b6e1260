// Fuzzing with a seeded, bounded generator: malformed HTTP bodies and images, TTS ingest messages and signaling
// requests against a real server on loopback, and Opus and RTP packets into the microphone path. Each case must get
// one of the documented answers (no 500, no `internal`), the server must stay up, and a canary session talking
// throughout must repeat no more frames than it did over a matched quiet stretch before.
// FACECAST_FUZZ_CASES (default 2000) sets the cases per family; FACECAST_FUZZ_SEED the seed (default 1). The longer
// run (README, "Tests"): FACECAST_FUZZ_CASES=100000 npx vitest run test/fuzz.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpusDecoder, OpusDecodeError } from '../../src/audio/opus-decoder.ts';
import { MicIngest } from '../../src/ingest/mic.ts';
import { writeRtpPacket } from '../../src/media/rtp.ts';
import { createSession, endSession, sessionDetails, startTestServer } from '../support/server.ts';
import { speechLike } from '../support/audio-fixtures.ts';
import { JsonSocket, closed } from '../support/ws-client.ts';
import { Fuzzer } from './generator.ts';

const CASES = Number(process.env.FACECAST_FUZZ_CASES ?? 2000);
const SEED = Number(process.env.FACECAST_FUZZ_SEED ?? 1);
/** Per case, how long one may take before the suite calls the server stuck. */
const CASE_TIMEOUT_MS = 10_000;
/** Per family: the longer run's 100,000 cases take minutes, not the default two. */
const FAMILY_TIMEOUT_MS = Math.max(120_000, CASES * 20);

/** The documented answers (signaling/http-api.md, signaling/ingest-protocol.ts, signaling/protocol.ts). */
const HTTP_CODES = new Set(['bad-request', 'bad-key', 'unknown-avatar', 'unknown-session', 'too-large', 'unsupported-type', 'bad-image', 'no-face', 'multiple-faces', 'no-such-face', 'unknown-job', 'no-token', 'bad-token', 'busy', 'at-capacity', 'session-limit', 'not-found']);
const INGEST_CODES = new Set(['bad-event', 'no-format', 'bad-audio', 'buffer-full', 'too-large']);
const SIGNAL_CODES = new Set(['bad-request', 'not-joined', 'forbidden', 'unknown-transport', 'producer-exists', 'unsupported', 'limit', 'too-large']);

let server: Awaited<ReturnType<typeof startTestServer>>;
let ws: string;
let canary: { id: string; socket: JsonSocket; stop: () => void };

async function lateFrames(): Promise<{ late: number; frames: number }> {
  const d = await sessionDetails<{ lateFrames: number; mediaTimeMs: number }>(server.base, server.key, canary.id);
  return { late: d.lateFrames, frames: Math.round(d.mediaTimeMs / 40) };
}

/** Late frames the canary repeats over `run`, and over the same time quiet just before (the control). */
async function matched(run: () => Promise<void>): Promise<{ control: number; during: number; frames: number }> {
  const a = await lateFrames();
  const t0 = performance.now();
  await run();
  const spent = performance.now() - t0;
  const b = await lateFrames();
  await new Promise((r) => setTimeout(r, Math.min(spent, 20_000)));
  const c = await lateFrames();
  return { during: b.late - a.late, control: c.late - b.late, frames: b.frames - a.frames };
}

function expectCanaryUnharmed(r: { control: number; during: number; frames: number }): void {
  // A shared 2-core machine: a few frames of noise either way; a harmed canary repeats far more.
  expect(r.during).toBeLessThanOrEqual(r.control + Math.max(10, 0.03 * r.frames));
}

beforeAll(async () => {
  server = await startTestServer({ maxEnrollJobs: 2 });
  ws = server.base.replace('http', 'ws');
  const s = await createSession(server.base, server.key);
  const socket = await JsonSocket.open(`${ws}/ingest?session=${s.sessionId}&token=${s.ingestToken}&encoding=pcm16&sampleRate=24000`);
  await socket.next((m) => m.type === 'ready');
  // Talks throughout: a 6 s turn whenever the last one finished (bounded by the suite's end).
  let talking = true;
  const talk = () => {
    if (!talking) return;
    socket.send(speechLike(6));
    socket.send({ type: 'end_of_turn' });
  };
  socket.ws.on('message', (m) => {
    if (String(m).includes('"playback_finished"')) talk();
  });
  talk();
  canary = { id: s.sessionId, socket, stop: () => (talking = false) };
  await new Promise((r) => setTimeout(r, 2000));
});

afterAll(async () => {
  canary?.stop();
  canary?.socket.close();
  await server?.close();
});

async function healthy(): Promise<void> {
  const res = await fetch(`${server.base}/api/health`);
  expect(res.status).toBe(200);
}

describe(`fuzz (seed ${SEED}, ${CASES} cases a family)`, () => {
  it('HTTP API: malformed bodies, queries and images get a documented 4xx/503 answer', async () => {
    const f = new Fuzzer(SEED);
    const unexpected: string[] = [];
    const r = await matched(async () => {
      for (let i = 0; i < CASES; i++) {
        const c = f.httpCase(server.key);
        const res = await fetch(`${server.base}${c.path}`, { method: c.method, headers: c.headers, body: c.body, signal: AbortSignal.timeout(CASE_TIMEOUT_MS) });
        const text = await res.text();
        if (res.status === 201 && c.path === '/api/sessions') {
          await endSession(server.base, server.key, (JSON.parse(text) as { sessionId: string }).sessionId);
          continue;
        }
        if (res.status < 400) continue; // a valid request, made by chance
        let code = '';
        try {
          code = (JSON.parse(text) as { error: { code: string } }).error.code;
        } catch {
          code = `unparsable: ${text.slice(0, 40)}`;
        }
        if (res.status >= 500 && res.status !== 503) unexpected.push(`${c.label}: ${res.status} ${code}`);
        else if (!HTTP_CODES.has(code)) unexpected.push(`${c.label}: ${res.status} ${code}`);
      }
    });
    expect(unexpected.slice(0, 10)).toEqual([]);
    await healthy();
    expectCanaryUnharmed(r);
  }, FAMILY_TIMEOUT_MS);

  it('TTS ingest: random audio and events get documented errors; the socket keeps working', async () => {
    const f = new Fuzzer(SEED + 1);
    const s = await createSession(server.base, server.key);
    const url = `${ws}/ingest?session=${s.sessionId}&token=${s.ingestToken}`;
    let socket = await JsonSocket.open(url);
    await socket.next((m) => m.type === 'ready');
    await new Promise((r) => setTimeout(r, 2000)); // the new session's start-up is not the fuzz's doing
    const unexpected: string[] = [];
    const r = await matched(async () => {
      for (let i = 0; i < CASES; i++) {
        const msg = f.ingestMessage();
        if (socket.ws.readyState !== socket.ws.OPEN) {
          // Closed by a too-large message (documented): a new socket goes on.
          socket = await JsonSocket.open(url);
          await socket.next((m) => m.type === 'ready');
        }
        socket.send(msg);
        // Paced like a busy client, not a flood (a flood is refused as buffer-full, which is documented too).
        if (i % 20 === 19) await new Promise((res) => setTimeout(res, 2));
      }
      // Answers come in order: wait until the last ones have come (no new message for 300 ms, bounded).
      for (let n = -1, k = 0; n !== socket.messages.length && k < 100; k++) {
        n = socket.messages.length;
        await new Promise((res) => setTimeout(res, 300));
      }
    });
    for (const m of socket.messages) if (m.type === 'error' && !INGEST_CODES.has(String(m.code))) unexpected.push(`${String(m.code)}: ${String(m.message)}`);
    expect(unexpected.slice(0, 10)).toEqual([]);
    expect(socket.messages.filter((m) => m.type === 'error').length).toBeGreaterThan(0);
    // After all that, the socket still takes a turn.
    if (socket.ws.readyState !== socket.ws.OPEN) {
      socket = await JsonSocket.open(url);
      await socket.next((m) => m.type === 'ready');
    }
    socket.send({ type: 'interrupt' });
    await socket.next((m) => m.type === 'interrupted' && socket.messages.indexOf(m) === socket.messages.length - 1, CASE_TIMEOUT_MS);
    const from = socket.messages.length;
    socket.send({ type: 'config', encoding: 'pcm16', sampleRate: 24_000 });
    socket.send(speechLike(0.5));
    socket.send({ type: 'end_of_turn' });
    const queued = await socket.next((m) => m.type === 'turn_queued' && socket.messages.indexOf(m) >= from, CASE_TIMEOUT_MS);
    expect(queued.segmentId).toEqual(expect.any(Number));
    socket.close();
    await endSession(server.base, server.key, s.sessionId);
    await healthy();
    expectCanaryUnharmed(r);
  }, FAMILY_TIMEOUT_MS);

  it('signaling: random requests get documented errors, never internal', async () => {
    const f = new Fuzzer(SEED + 2);
    const s = await createSession(server.base, server.key);
    const unexpected: string[] = [];
    const r = await matched(async () => {
      let socket = await JsonSocket.open(`${ws}/signal?session=${s.sessionId}&token=${s.publisherToken}`);
      for (let i = 0; i < CASES; i++) {
        if (socket.ws.readyState !== socket.ws.OPEN) socket = await JsonSocket.open(`${ws}/signal?session=${s.sessionId}&token=${i % 2 ? s.viewerToken : s.publisherToken}`);
        const { text, id } = f.signalMessage(i + 1);
        socket.send(text);
        if (id !== null) {
          const answer = await socket.next((m) => m.id === id || (m.id === null && m.ok === false), CASE_TIMEOUT_MS);
          const code = (answer.error as { code?: string } | undefined)?.code;
          if (answer.ok === false && !SIGNAL_CODES.has(String(code))) unexpected.push(`${text.slice(0, 60)}: ${String(code)}`);
        }
        if (i % 200 === 199) {
          socket.close();
          await closed(socket.ws);
        }
      }
      socket.close();
    });
    expect(unexpected.slice(0, 10)).toEqual([]);
    await endSession(server.base, server.key, s.sessionId);
    await healthy();
    expectCanaryUnharmed(r);
  }, FAMILY_TIMEOUT_MS);

  it('Opus and RTP: random packets decode or are refused by name; the microphone path counts them and goes on', () => {
    const f = new Fuzzer(SEED + 3);
    const decoder = new OpusDecoder();
    let refused = 0;
    for (let i = 0; i < CASES; i++) {
      try {
        const pcm = decoder.decode(f.opusPacket());
        expect(pcm.length % 960 === 0 || pcm.length > 0).toBe(true);
      } catch (err) {
        expect(err).toBeInstanceOf(OpusDecodeError);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
    let now = 0;
    const chunks: number[] = [];
    const mic = new MicIngest({ nowUs: () => (now += 20_000), epoch: () => 0, onChunk: (c) => chunks.push(c.ptsUs) });
    for (let i = 0; i < CASES; i++) mic.push(f.rtpPacket(i, writeRtpPacket));
    expect(mic.stats.packets).toBe(CASES);
    expect(mic.stats.malformed).toBeGreaterThan(0);
    // The well-formed ones among them still made audio, in order.
    expect(chunks.length).toBeGreaterThan(0);
    expect(chunks.every((t, i) => i === 0 || t > chunks[i - 1]!)).toBe(true);
  }, FAMILY_TIMEOUT_MS);
});
