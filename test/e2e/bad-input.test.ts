// Bad input gets a clear error and the server keeps serving everyone else.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createSession, sessionDetails, startTestServer } from '../support/server.ts';
import { JsonSocket, closed } from '../support/ws-client.ts';
import { uploadUntilAnswered } from '../support/upload.ts';

let server: Awaited<ReturnType<typeof startTestServer>>;
let ws: string;

beforeAll(async () => {
  server = await startTestServer();
  ws = server.base.replace('http', 'ws');
});
afterAll(async () => {
  await server?.close();
});

/** Fake but well-formed DTLS parameters: mediasoup accepts them; the handshake never runs. */
const dtlsParameters = { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: Array.from({ length: 32 }, () => 'AB').join(':') }] };
const opusRtpParameters = { codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48_000, channels: 2 }], encodings: [{ ssrc: 11_111 }] };

/** Streams `size` bytes as a request body until the server answers; bounded by size. */
function upload(url: string, size: number, key: string): Promise<{ status: number; sentBytes: number }> {
  return uploadUntilAnswered(url, { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': size }, size, 0x20);
}

async function healthy(): Promise<void> {
  const res = await fetch(`${server.base}/api/health`);
  expect(res.status).toBe(200);
  expect(((await res.json()) as { ok: boolean }).ok).toBe(true);
}

describe('HTTP API errors', () => {
  it('unknown session: 404 with a message, on the API and on both sockets', async () => {
    const res = await fetch(`${server.base}/api/sessions/nope`, { headers: { authorization: `Bearer ${server.key}` } });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unknown-session');
    await expect(JsonSocket.open(`${ws}/signal?session=nope&token=x`)).rejects.toThrow(/404/);
    await expect(JsonSocket.open(`${ws}/ingest?session=nope&token=x`)).rejects.toThrow(/404/);
    await healthy();
  });

  it('refuses a missing or wrong key, a bad token and a token of another role', async () => {
    expect((await fetch(`${server.base}/api/sessions`, { method: 'POST', body: '{}' })).status).toBe(401);
    expect((await fetch(`${server.base}/api/sessions`, { method: 'POST', headers: { authorization: 'Bearer wrong' }, body: '{}' })).status).toBe(401);
    const s = await createSession(server.base, server.key);
    await expect(JsonSocket.open(`${ws}/signal?session=${s.sessionId}&token=forged.token`)).rejects.toThrow(/401/);
    await expect(JsonSocket.open(`${ws}/signal?session=${s.sessionId}&token=${s.ingestToken}`)).rejects.toThrow(/403/);
    await expect(JsonSocket.open(`${ws}/ingest?session=${s.sessionId}&token=${s.viewerToken}`)).rejects.toThrow(/403/);
  });

  it('a 200 MB upload is refused with 413 before it is read, and bad JSON with 400', async () => {
    const t0 = Date.now();
    const { status, sentBytes } = await upload(`${server.base}/api/sessions`, 200 * 1024 * 1024, server.key);
    expect(status).toBe(413);
    expect(sentBytes).toBeLessThan(200 * 1024 * 1024);
    expect(Date.now() - t0).toBeLessThan(10_000);
    const bad = await fetch(`${server.base}/api/sessions`, { method: 'POST', headers: { authorization: `Bearer ${server.key}` }, body: '{not json' });
    expect(bad.status).toBe(400);
    const extra = await fetch(`${server.base}/api/sessions`, { method: 'POST', headers: { authorization: `Bearer ${server.key}` }, body: '{"avatar":"nobody"}' });
    expect(extra.status).toBe(404);
    await healthy();
  });
});

describe('signaling errors', () => {
  it('malformed messages get an error reply and the connection keeps working', async () => {
    const s = await createSession(server.base, server.key);
    const c = await JsonSocket.open(`${ws}/signal?session=${s.sessionId}&token=${s.publisherToken}`);
    c.send('this is not json');
    const e1 = await c.next((m) => m.ok === false && m.id === null);
    expect((e1.error as { code: string }).code).toBe('bad-request');
    c.send({ id: 5, method: 'fly' });
    const e2 = await c.next((m) => m.id === 5);
    expect(e2).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    const e3 = await c.request('createTransport', { direction: 'send' });
    expect(e3).toMatchObject({ ok: false, error: { code: 'not-joined' } });
    const joined = await c.request('join');
    expect(joined.ok).toBe(true);
    const e4 = await c.request('connectTransport', { transportId: 'nope', dtlsParameters });
    expect(e4).toMatchObject({ ok: false, error: { code: 'unknown-transport' } });
    c.ws.send(Buffer.alloc(70 * 1024)); // over the 64 KiB limit: the socket is closed, nothing else
    expect(await closed(c.ws)).toBeGreaterThan(0);
    await healthy();
  });

  it('a viewer cannot produce, and a second microphone producer on the session is refused', async () => {
    const s = await createSession(server.base, server.key);
    const viewer = await JsonSocket.open(`${ws}/signal?session=${s.sessionId}&token=${s.viewerToken}`);
    await viewer.request('join');
    expect(await viewer.request('createTransport', { direction: 'send' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });

    const produce = async () => {
      const c = await JsonSocket.open(`${ws}/signal?session=${s.sessionId}&token=${s.publisherToken}`);
      expect((await c.request('join')).ok).toBe(true);
      const t = await c.request('createTransport', { direction: 'send' });
      const transportId = (t.data as { id: string }).id;
      expect((await c.request('connectTransport', { transportId, dtlsParameters })).ok).toBe(true);
      return { c, res: await c.request('produce', { transportId, kind: 'audio', rtpParameters: opusRtpParameters }) };
    };
    const first = await produce();
    expect(first.res.ok).toBe(true);
    const second = await produce();
    expect(second.res).toMatchObject({ ok: false, error: { code: 'producer-exists' } });
    // When the first publisher leaves, the session takes a new microphone.
    first.c.close();
    await closed(first.c.ws);
    await new Promise((r) => setTimeout(r, 200));
    const third = await produce();
    expect(third.res.ok).toBe(true);
    [viewer, second.c, third.c].forEach((x) => x.close());
  });

  it('a client that vanishes mid-handshake leaves nothing behind and others go on', async () => {
    const s = await createSession(server.base, server.key);
    const c = await JsonSocket.open(`${ws}/signal?session=${s.sessionId}&token=${s.publisherToken}`);
    await c.request('join');
    // Ask for a transport and vanish before the answer.
    c.send({ id: 99, method: 'createTransport', data: { direction: 'recv' } });
    c.ws.terminate();
    await new Promise((r) => setTimeout(r, 300));
    const other = await JsonSocket.open(`${ws}/signal?session=${s.sessionId}&token=${s.viewerToken}`);
    expect((await other.request('join')).ok).toBe(true);
    const t = await other.request('createTransport', { direction: 'recv' });
    expect(t.ok).toBe(true);
    const info = await sessionDetails<{ hasPublisher: boolean }>(server.base, server.key, s.sessionId);
    expect(info.hasPublisher).toBe(false);
    other.close();
    await healthy();
  });
});

describe('TTS ingest errors', () => {
  it('audio before a format, garbage events, odd PCM and bad Opus each get a clear error', async () => {
    const s = await createSession(server.base, server.key);
    const c = await JsonSocket.open(`${ws}/ingest?session=${s.sessionId}&token=${s.ingestToken}`);
    await c.next((m) => m.type === 'ready');
    c.send(Buffer.alloc(960));
    expect(await c.next((m) => m.type === 'error')).toMatchObject({ code: 'no-format' });
    c.send('{"type":"dance"}');
    expect(await c.next((m) => m.type === 'error' && m.code === 'bad-event')).toBeTruthy();
    c.send({ type: 'config', encoding: 'pcm16', sampleRate: 24_000 });
    c.send(Buffer.alloc(961));
    expect(await c.next((m) => m.type === 'error' && m.code === 'bad-audio')).toMatchObject({ message: expect.stringMatching(/odd length/) });
    c.send({ type: 'config', encoding: 'opus', sampleRate: 48_000 });
    c.send(Buffer.from([0xff, 0xff, 0xff]));
    expect(await c.next((m) => m.type === 'error' && m.code === 'bad-audio' && /Opus/.test(String(m.message)))).toBeTruthy();
    c.close();
    await expect(JsonSocket.open(`${ws}/ingest?session=${s.sessionId}&token=${s.ingestToken}&encoding=mp3`)).rejects.toThrow(/400/);
    await healthy();
  });

  it('a session can be ended, after which its sockets are refused', async () => {
    const s = await createSession(server.base, server.key);
    const del = await fetch(`${server.base}/api/sessions/${s.sessionId}`, { method: 'DELETE', headers: { authorization: `Bearer ${server.key}` } });
    expect(del.status).toBe(200);
    await expect(JsonSocket.open(`${ws}/signal?session=${s.sessionId}&token=${s.publisherToken}`)).rejects.toThrow(/404/);
  });
});

void WebSocket;
