// Graceful overload on a real server: it states (or measures) how many sessions it serves in real time and answers
// one more with 503 at-capacity and Retry-After, counted in /metrics, while the admitted sessions keep running;
// a measured server reports its render probe.
import { afterAll, describe, expect, it } from 'vitest';
import { createSession, endSession, sessionDetails, startTestServer } from '../support/server.ts';

const servers: Awaited<ReturnType<typeof startTestServer>>[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});

describe('capacity', () => {
  it('refuses a session over the stated capacity with 503 at-capacity and Retry-After; the admitted ones go on', async () => {
    const server = await startTestServer({ capacity: 2 });
    servers.push(server);
    const a = await createSession(server.base, server.key);
    const b = await createSession(server.base, server.key);
    const res = await fetch(`${server.base}/api/sessions`, { method: 'POST', headers: { authorization: `Bearer ${server.key}`, 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('at-capacity');
    expect(body.error.message).toMatch(/serves 2 sessions/);
    const metrics = await (await fetch(`${server.base}/metrics`)).text();
    expect(metrics).toMatch(/^facecast_session_refusals_total\{reason="at-capacity"\} [1-9]/m);
    expect(metrics).toMatch(/^facecast_capacity_sessions 2$/m);
    // The two admitted sessions still run: their media clocks move.
    const before = await sessionDetails<{ mediaTimeMs: number }>(server.base, server.key, a.sessionId);
    await new Promise((r) => setTimeout(r, 500));
    const after = await sessionDetails<{ mediaTimeMs: number }>(server.base, server.key, a.sessionId);
    expect(after.mediaTimeMs - before.mediaTimeMs).toBeGreaterThan(300);
    // One ends: there is room again.
    await endSession(server.base, server.key, b.sessionId);
    const c = await createSession(server.base, server.key);
    await endSession(server.base, server.key, c.sessionId);
    await endSession(server.base, server.key, a.sessionId);
  });

  it('measures its capacity at start with a render probe and reports it in /api/health', async () => {
    const server = await startTestServer({ capacity: 'auto' });
    servers.push(server);
    const health = (await (await fetch(`${server.base}/api/health`)).json()) as {
      capacity: { sessions: number; stated: string; probeMsPerFrame: number; perSessionCores: number; cores: number; headroom: number; otherCores: number };
    };
    const c = health.capacity;
    expect(c.stated).toBe('auto');
    expect(c.probeMsPerFrame).toBeGreaterThan(0.5);
    expect(c.perSessionCores).toBeGreaterThan(0.1);
    // The figures are rounded to 3 decimals in the answer: the capacity is one of the floors either side.
    const at = (per: number) => Math.max(1, Math.floor((c.cores * c.headroom - c.otherCores) / per));
    expect([at(c.perSessionCores - 0.001), at(c.perSessionCores + 0.001)]).toContain(c.sessions);
  });
});
