// Faults the server recovers from, caused for real: a session's ffmpeg encoder killed (it is restarted; the session,
// its clock and its frames go on), and a mediasoup worker process killed (a new one takes its place within 2 s;
// the sessions on it move there, their clocks and TTS turns going on; viewers are told to reconnect and can).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSession, endSession, sessionDetails, startTestServer } from '../support/server.ts';
import { speechLike } from '../support/audio-fixtures.ts';
import { JsonSocket, closed } from '../support/ws-client.ts';
import { parsePrometheus, sampleValue } from '../support/prometheus.ts';

let server: Awaited<ReturnType<typeof startTestServer>>;
let ws: string;

beforeAll(async () => {
  server = await startTestServer({ workers: 2 });
  ws = server.base.replace('http', 'ws');
});
afterAll(async () => {
  await server?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function faults(kind: string): Promise<number> {
  const { samples } = parsePrometheus(await (await fetch(`${server.base}/metrics`)).text());
  return sampleValue(samples, 'facecast_faults_total', { kind }) ?? 0;
}

interface Details {
  mediaTimeMs: number;
  fps: number;
  roomMoves: number;
  encoder: { restarts: number; framesOut: number };
}

describe('faults', () => {
  it('a killed ffmpeg encoder is restarted: the session goes on at full frame rate', async () => {
    const before = await faults('encoder-restart');
    const s = await createSession(server.base, server.key);
    await sleep(1500);
    const session = server.server.sessions.get(s.sessionId)!;
    const [pid] = session.pids;
    expect(pid).toBeGreaterThan(0);
    process.kill(pid!, 'SIGKILL');
    await sleep(2500);
    const d = await sessionDetails<Details>(server.base, server.key, s.sessionId);
    expect(d.encoder.restarts).toBe(1);
    expect(session.pids[0]).not.toBe(pid);
    expect(d.fps).toBeGreaterThanOrEqual(20); // encoded frames over the last second, from the new encoder
    expect(await faults('encoder-restart')).toBe(before + 1);
    await endSession(server.base, server.key, s.sessionId);
  });

  it('a killed mediasoup worker is replaced within 2 s; its sessions move there, their turns go on, viewers reconnect', async () => {
    const s = await createSession(server.base, server.key);
    const session = server.server.sessions.get(s.sessionId)!;
    const viewer = await JsonSocket.open(`${ws}/signal?session=${s.sessionId}&token=${s.viewerToken}`);
    expect((await viewer.request('join')).ok).toBe(true);
    expect((await viewer.request('createTransport', { direction: 'recv' })).ok).toBe(true);
    const ingest = await JsonSocket.open(`${ws}/ingest?session=${s.sessionId}&token=${s.ingestToken}&encoding=pcm16&sampleRate=24000`);
    await ingest.next((m) => m.type === 'ready');
    ingest.send(speechLike(4));
    ingest.send({ type: 'end_of_turn' });
    await ingest.next((m) => m.type === 'playback_started');

    const dead = session.room.worker.pid;
    const viewerClosed = closed(viewer.ws);
    const t0 = performance.now();
    process.kill(dead, 'SIGKILL');
    // Health says so while the worker is replaced, then ok with the new pid.
    let recoveredMs = Infinity;
    for (let i = 0; i < 100; i++) {
      const res = await fetch(`${server.base}/api/health`);
      const body = (await res.json()) as { ok: boolean; workers: number[] };
      if (res.status === 200 && body.ok && !body.workers.includes(dead) && session.room.worker.pid !== dead && session.details().roomMoves === 1) {
        recoveredMs = performance.now() - t0;
        break;
      }
      await sleep(20);
    }
    expect(recoveredMs).toBeLessThan(2000);
    expect(await faults('mediasoup-worker-respawned')).toBeGreaterThanOrEqual(1);
    expect(await faults('session-moved')).toBeGreaterThanOrEqual(1);

    // The viewer was told to reconnect, and can: join, a transport, the avatar's two tracks.
    expect(await viewer.next((m) => m.notification === 'reconnect')).toMatchObject({ data: { reason: expect.any(String) } });
    expect(await viewerClosed).toBe(1012);
    const again = await JsonSocket.open(`${ws}/signal?session=${s.sessionId}&token=${s.viewerToken}`);
    const join = await again.request('join');
    expect(join.ok).toBe(true);
    const t = await again.request('createTransport', { direction: 'recv' });
    expect(t.ok).toBe(true);
    const caps = (join.data as { routerRtpCapabilities: { codecs: unknown[] } }).routerRtpCapabilities;
    const consume = await again.request('consume', { transportId: (t.data as { id: string }).id, rtpCapabilities: caps });
    expect(consume).toMatchObject({ ok: true });

    // The session's clock and its turn went on: the turn finishes, not interrupted.
    const finished = await ingest.next((m) => m.type === 'playback_finished', 10_000);
    expect(finished.interrupted).toBe(false);
    expect(finished.positionMs).toBeGreaterThanOrEqual(3900);
    const d = await sessionDetails<Details>(server.base, server.key, s.sessionId);
    expect(d.fps).toBeGreaterThanOrEqual(20);

    // New sessions start on the pool as before.
    const fresh = await createSession(server.base, server.key);
    [again, ingest].forEach((x) => x.close());
    await endSession(server.base, server.key, fresh.sessionId);
    await endSession(server.base, server.key, s.sessionId);
  });
});
