// What one client does cannot lose another's audio or stall the server: one ingest socket per session (a second is
// refused, never merged), every turn ends exactly once (also when its session is deleted mid-turn), a huge text
// event is bounded work, transports are limited per peer and per session, oversized socket messages get their
// too-large answer, and sockets leave no listener behind on their session.
import { getEventListeners } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createSession, endSession, startTestServer } from '../support/server.ts';
import { speechLike } from '../support/audio-fixtures.ts';
import { JsonSocket, closed } from '../support/ws-client.ts';

let server: Awaited<ReturnType<typeof startTestServer>>;
let ws: string;

beforeAll(async () => {
  server = await startTestServer({ maxTransportsPerSession: 5 });
  ws = server.base.replace('http', 'ws');
});
afterAll(async () => {
  await server?.close();
});

/** A WebSocket upgrade the server refuses: its status and body. */
function upgradeRefusal(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    socket.once('open', () => reject(new Error('upgrade was accepted')));
    socket.once('error', () => undefined);
  });
}

const ingestUrl = (s: { sessionId: string; ingestToken: string }) => `${ws}/ingest?session=${s.sessionId}&token=${s.ingestToken}&encoding=pcm16&sampleRate=24000`;

describe('TTS ingest: nothing lost, every turn ends once', () => {
  it('a second ingest socket on a session is refused (409 ingest-busy); once the first closes, a new one works', async () => {
    const s = await createSession(server.base, server.key);
    const first = await JsonSocket.open(ingestUrl(s));
    await first.next((m) => m.type === 'ready');
    await expect(JsonSocket.open(ingestUrl(s))).rejects.toThrow(/409/);
    const refusal = await upgradeRefusal(ingestUrl(s));
    expect(refusal.status).toBe(409);
    expect((JSON.parse(refusal.body) as { error: unknown }).error).toMatchObject({ code: 'ingest-busy', message: expect.stringMatching(/one turn timeline/) });
    first.close();
    await closed(first.ws);
    await new Promise((r) => setTimeout(r, 100));
    const second = await JsonSocket.open(ingestUrl(s));
    await second.next((m) => m.type === 'ready');
    second.close();
    await endSession(server.base, server.key, s.sessionId);
  });

  it('a turn announces itself (turn_queued), and a session deleted mid-turn ends it once, interrupted, before the socket closes', async () => {
    const s = await createSession(server.base, server.key);
    const c = await JsonSocket.open(ingestUrl(s));
    await c.next((m) => m.type === 'ready');
    c.send(speechLike(5));
    const queued = await c.next((m) => m.type === 'turn_queued');
    expect(queued).toMatchObject({ segmentId: expect.any(Number), startMs: expect.any(Number) });
    const started = await c.next((m) => m.type === 'playback_started');
    expect(started.segmentId).toBe(queued.segmentId);
    const code = closed(c.ws);
    await endSession(server.base, server.key, s.sessionId);
    expect(await code).toBe(1000);
    const finished = c.messages.filter((m) => m.type === 'playback_finished');
    expect(finished).toEqual([expect.objectContaining({ segmentId: queued.segmentId, interrupted: true })]);
    const order = c.messages.map((m) => m.type);
    expect(order.indexOf('playback_finished')).toBeLessThan(order.lastIndexOf('error')); // then the 'closed' notice
  });

  it('one 20,000-character text with 17 s of audio is bounded work: the server answers meanwhile', async () => {
    const s = await createSession(server.base, server.key);
    const c = await JsonSocket.open(ingestUrl(s));
    await c.next((m) => m.type === 'ready');
    const words = 'seven sensible sailors sang softly while the rain came down on the harbour '.repeat(300).slice(0, 20_000);
    c.send({ type: 'text', text: words });
    const audio = speechLike(17);
    for (let off = 0; off < audio.length; off += 1 << 20) c.send(audio.subarray(off, off + (1 << 20)));
    c.send({ type: 'end_of_turn' });
    // Before the bound: /api/health took 2.1-2.4 s while the whole text was aligned against the audio at once.
    const latencies: number[] = [];
    for (let i = 0; i < 100; i++) { // ~5 s: the audio arrives, is analysed and starts playing
      const t0 = performance.now();
      expect((await fetch(`${server.base}/api/health`)).status).toBe(200);
      latencies.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(c.messages.some((m) => m.type === 'error')).toBe(false);
    expect(Math.max(...latencies)).toBeLessThan(500);
    c.close();
    await endSession(server.base, server.key, s.sessionId);
  });

  it('an ingest message over 1 MiB gets too-large and a 1009 close; the session keeps serving', async () => {
    const s = await createSession(server.base, server.key);
    const c = await JsonSocket.open(ingestUrl(s));
    await c.next((m) => m.type === 'ready');
    const code = closed(c.ws);
    c.send(Buffer.alloc((1 << 20) + 2));
    expect(await c.next((m) => m.type === 'error')).toMatchObject({ code: 'too-large', message: expect.stringMatching(/at most 1048576 bytes/) });
    expect(await code).toBe(1009);
    const again = await JsonSocket.open(ingestUrl(s));
    await again.next((m) => m.type === 'ready');
    again.close();
    await endSession(server.base, server.key, s.sessionId);
  });
});

describe('signaling: limits that protect the other sessions', () => {
  it('a peer holds at most 2 transports a direction, a session at most its share; other sessions are unaffected', async () => {
    const s = await createSession(server.base, server.key);
    const other = await createSession(server.base, server.key);
    const abuser = await JsonSocket.open(`${ws}/signal?session=${s.sessionId}&token=${s.viewerToken}`);
    await abuser.request('join');
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await abuser.request('createTransport', { direction: 'recv' }));
    expect(answers.map((a) => a.ok)).toEqual([true, true, false, false]);
    expect(answers[2]).toMatchObject({ error: { code: 'limit', message: expect.stringMatching(/2 recv transports/) } });
    // More peers of the same session: 5 transports in all (the configured share), then 'limit'.
    const peers = [];
    let made = 2;
    let refused: Record<string, unknown> | null = null;
    for (let p = 0; p < 3 && !refused; p++) {
      const peer = await JsonSocket.open(`${ws}/signal?session=${s.sessionId}&token=${s.viewerToken}`);
      peers.push(peer);
      await peer.request('join');
      for (let i = 0; i < 2 && !refused; i++) {
        const t = await peer.request('createTransport', { direction: 'recv' });
        if (t.ok) made++;
        else refused = t;
      }
    }
    expect(made).toBe(5);
    expect(refused).toMatchObject({ ok: false, error: { code: 'limit', message: expect.stringMatching(/5 transports/) } });
    // The other session still gets its transports.
    const viewer = await JsonSocket.open(`${ws}/signal?session=${other.sessionId}&token=${other.viewerToken}`);
    await viewer.request('join');
    expect((await viewer.request('createTransport', { direction: 'recv' })).ok).toBe(true);
    // When the abuser leaves, its transports are freed for the session's viewers.
    abuser.close();
    await closed(abuser.ws);
    await new Promise((r) => setTimeout(r, 200));
    expect((await peers.at(-1)!.request('createTransport', { direction: 'recv' })).ok).toBe(true);
    [viewer, ...peers].forEach((x) => x.close());
    await endSession(server.base, server.key, s.sessionId);
    await endSession(server.base, server.key, other.sessionId);
  });

  it('a signaling message over 64 KiB gets too-large and a 1009 close', async () => {
    const s = await createSession(server.base, server.key);
    const c = await JsonSocket.open(`${ws}/signal?session=${s.sessionId}&token=${s.viewerToken}`);
    const code = closed(c.ws);
    c.send(JSON.stringify({ id: 1, method: 'join', data: { pad: 'x'.repeat(70_000) } }));
    expect(await c.next((m) => m.ok === false)).toMatchObject({ error: { code: 'too-large' } });
    expect(await code).toBe(1009);
    await endSession(server.base, server.key, s.sessionId);
  });

  it('"constructor": null (which made the validator itself throw, an unhandled rejection) is bad input everywhere', async () => {
    const s = await createSession(server.base, server.key);
    const sig = await JsonSocket.open(`${ws}/signal?session=${s.sessionId}&token=${s.viewerToken}`);
    const bad = await sig.request('join', { constructor: null });
    expect(bad).toMatchObject({ ok: false, error: { code: 'bad-request', message: expect.stringMatching(/constructor/) } });
    expect((await sig.request('join')).ok).toBe(true); // the peer goes on
    const ingest = await JsonSocket.open(ingestUrl(s));
    await ingest.next((m) => m.type === 'ready');
    ingest.send('{"type":"text","text":"hi","constructor":null}');
    expect(await ingest.next((m) => m.type === 'error')).toMatchObject({ code: 'bad-event', message: expect.stringMatching(/constructor/) });
    const res = await fetch(`${server.base}/api/sessions`, { method: 'POST', headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' }, body: '{"avatar":{"constructor":null}}' });
    expect(res.status).toBe(400);
    [sig, ingest].forEach((x) => x.close());
    await endSession(server.base, server.key, s.sessionId);
  });

  it('sockets that come and go leave no listener on their session', async () => {
    const s = await createSession(server.base, server.key);
    const session = server.server.sessions.get(s.sessionId)!;
    const before = getEventListeners(session.closeSignal, 'abort').length;
    for (let i = 0; i < 15; i++) {
      const signal = await JsonSocket.open(`${ws}/signal?session=${s.sessionId}&token=${s.viewerToken}`);
      const ingest = await JsonSocket.open(ingestUrl(s));
      await ingest.next((m) => m.type === 'ready');
      signal.close();
      ingest.close();
      await Promise.all([closed(signal.ws), closed(ingest.ws)]);
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(getEventListeners(session.closeSignal, 'abort').length).toBe(before);
    await endSession(server.base, server.key, s.sessionId);
  });
});
