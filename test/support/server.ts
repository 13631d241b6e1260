// Starts a real facecast server in-process on loopback with a free port. Its capacity is stated (64 sessions): the
// functional tests open several sessions on a machine whose measured capacity may be 2 or 3; test/e2e/capacity.test.ts
// tests the measured one.
import { startFacecast, type RunningServer } from '../../src/cli/serve.ts';

export async function startTestServer(overrides: Parameters<typeof startFacecast>[0] = {}): Promise<RunningServer & { base: string; key: string }> {
  const running = await startFacecast({ host: '127.0.0.1', port: 0, rtcListenIp: '127.0.0.1', capacity: 64, ...overrides });
  return Object.assign(running, { base: running.server.baseUrl, key: running.server.config.apiKey });
}

export async function createSession(base: string, key: string, body: Record<string, unknown> = {}) {
  const res = await fetch(`${base}/api/sessions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 201) throw new Error(`create session: ${res.status} ${await res.text()}`);
  return (await res.json()) as {
    sessionId: string;
    publisherToken: string;
    viewerToken: string;
    ingestToken: string;
    urls: { publish: string; view: string; signal: string; ingest: string };
  };
}

export async function mouthBox(base: string): Promise<{ x: number; y: number; w: number; h: number }> {
  const res = await fetch(`${base}/api/avatars`);
  const body = (await res.json()) as { avatars: { mouthBox: { x: number; y: number; w: number; h: number } }[] };
  return body.avatars[0].mouthBox;
}

/** A session's details (GET /api/sessions/:id) as the type the caller reads; throws unless the server answered 200. */
export async function sessionDetails<T = Record<string, unknown>>(base: string, key: string, id: string): Promise<T> {
  const res = await fetch(`${base}/api/sessions/${id}`, { headers: { authorization: `Bearer ${key}` } });
  if (res.status !== 200) throw new Error(`session ${id}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Ends a session (DELETE), so that its render and encode stop loading the machine; throws unless the server agreed. */
export async function endSession(base: string, key: string, id: string): Promise<void> {
  const res = await fetch(`${base}/api/sessions/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${key}` } });
  if (res.status !== 200) throw new Error(`end session ${id}: ${res.status} ${await res.text()}`);
}
