// The chat backend against a local stand-in that speaks the chat completions protocol (no LLM runs here):
// a valid answer, invalid JSON, a slow answer past the timeout, a 500 then success; and the Director around it.
import { afterEach, describe, expect, it } from 'vitest';
import { ChatPlanBackend, Director, planSchema, type Plan } from '../../src/director/index.ts';
import { ProsodyTracker } from '../../src/director/prosody.ts';
import { defaultExperts } from '../../src/director/rounds.ts';
import { askedWindow, chunks, completion, json, sleep, speech, standIn, standInPlan, until, type StandIn } from './fixtures.ts';

const TEXT = 'Yes, I agree. That is wonderful news!';
let server: StandIn | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

function request(startUs = 0, endUs = 3_000_000) {
  const ctx = { startUs, endUs, nowUs: 0, audioKnownUntilUs: 0, sentences: [], prosody: new ProsodyTracker(), portrait: null, instructions: [] };
  return { ctx, proposals: defaultExperts().map((e) => e.propose(ctx)), rulesShots: [] };
}

describe('ChatPlanBackend against a local stand-in', () => {
  it('sends a json_schema response format derived from the zod schema and accepts a valid answer', async () => {
    server = await standIn((_req, body, res) => json(res, 200, completion(standInPlan(askedWindow(body)))));
    const backend = new ChatPlanBackend({ baseUrl: server.url, model: 'stand-in', apiKey: 'sk-test' });
    const r = await backend.plan(request(), new AbortController().signal);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.shots).toHaveLength(1);
    expect(r.shots[0]!.emotion).toBe('surprised');
    const sent = JSON.parse(server.requests[0]!.body.toString());
    expect(server.requests[0]!.path).toBe('/v1/chat/completions');
    expect(server.requests[0]!.headers.authorization).toBe('Bearer sk-test');
    expect(sent.model).toBe('stand-in');
    expect(sent.response_format.type).toBe('json_schema');
    expect(sent.response_format.json_schema.schema.properties.shots.items.properties.emotion.enum).toContain('serious');
    expect(sent.messages[0].role).toBe('system');
  });

  it('reports invalid JSON and schema violations as invalid', async () => {
    server = await standIn((_req, body, res, n) => json(res, 200, n === 1 ? completion('certainly! here is a plan') : completion(JSON.stringify({ shots: [{ ...JSON.parse(standInPlan(askedWindow(body))).shots[0], emotion: 'bored' }] }))));
    const backend = new ChatPlanBackend({ baseUrl: server.url, model: 'm' });
    const a = await backend.plan(request(), new AbortController().signal);
    const b = await backend.plan(request(), new AbortController().signal);
    expect(a.ok === false && a.reason).toBe('invalid');
    expect(b.ok === false && b.reason).toBe('invalid');
    expect(b.ok === false && b.detail).toMatch(/emotion/);
  });

  it('gives up on a slow answer at the timeout', async () => {
    server = await standIn(async (_req, body, res) => {
      await sleep(1_500);
      if (!res.destroyed) json(res, 200, completion(standInPlan(askedWindow(body))));
    });
    const backend = new ChatPlanBackend({ baseUrl: server.url, model: 'm', timeoutMs: 300 });
    const r = await backend.plan(request(), new AbortController().signal);
    expect(r.ok === false && r.reason).toBe('timeout');
    expect(r.latencyMs).toBeGreaterThanOrEqual(290);
    expect(r.latencyMs).toBeLessThan(1_000);
  });

  it('retries after a 500 and succeeds', async () => {
    server = await standIn((_req, body, res, n) => (n === 1 ? json(res, 500, { error: 'overloaded' }) : json(res, 200, completion(standInPlan(askedWindow(body))))));
    const backend = new ChatPlanBackend({ baseUrl: server.url, model: 'm', retries: 1 });
    const r = await backend.plan(request(), new AbortController().signal);
    expect(r.ok).toBe(true);
    expect(r.attempts).toBe(2);
    expect(server.requests).toHaveLength(2);
    // Without retries a 500 is final.
    await server.close();
    server = await standIn((_req, _body, res) => json(res, 500, { error: 'down' }));
    const failing = new ChatPlanBackend({ baseUrl: server.url, model: 'm', retries: 0 });
    const f = await failing.plan(request(), new AbortController().signal);
    expect(f.ok === false && f.reason).toBe('http');
    expect(server.requests).toHaveLength(1);
  });

  it('repairs small gaps and overlaps so the shots cover the window', async () => {
    server = await standIn((_req, body, res) => {
      const w = askedWindow(body);
      const shot = JSON.parse(standInPlan(w)).shots[0];
      const mid = Math.round((w.startUs + w.endUs) / 2);
      json(res, 200, completion(JSON.stringify({ shots: [{ ...shot, startUs: w.startUs + 10_000, endUs: mid - 5_000, gestures: [] }, { ...shot, startUs: mid, endUs: w.endUs + 1_000_000 }] })));
    });
    const r = await new ChatPlanBackend({ baseUrl: server.url, model: 'm' }).plan(request(0, 3_000_000), new AbortController().signal);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.shots[0]!.startUs).toBe(0);
    expect(r.shots[0]!.endUs).toBe(r.shots[1]!.startUs);
    expect(r.shots[1]!.endUs).toBe(3_000_000);
    expect(r.repaired.length).toBeGreaterThan(0);
  });
});

function feed(d: Director): void {
  d.transcript({ text: TEXT, segmentId: 1 });
  const cs = chunks(speech('espeak', TEXT));
  cs.forEach((c, i) => d.audio(c, { segmentId: 1, last: i === cs.length - 1 }));
}

describe('Director with the chat backend', () => {
  it('publishes the rule plan at once, then the chat plan, which the experts still critique under the priorities', async () => {
    server = await standIn(async (_req, body, res) => {
      await sleep(100);
      json(res, 200, completion(standInPlan(askedWindow(body))));
    });
    const d = new Director({ lookaheadMs: 4_000, chat: { baseUrl: server.url, model: 'm' } }, { nowUs: () => 0 });
    const plans: Plan[] = [];
    d.on('plan', (p) => plans.push(p));
    feed(d);
    d.instruction('keep a serious face', 0);
    const rules = d.planNow('input');
    expect(rules.source).toBe('rules');
    await until(() => plans.some((p) => p.source === 'llm'));
    const llm = plans.find((p) => p.source === 'llm')!;
    expect(planSchema.safeParse(llm).success).toBe(true);
    expect(llm.version).toBeGreaterThan(rules.version);
    // The stand-in said "surprised"; the instruction outranks the chat backend.
    expect(llm.shots.every((s) => s.emotion === 'serious')).toBe(true);
    expect(llm.shots.some((s) => s.gestures.some((g) => g.kind === 'tilt'))).toBe(true);
    expect(d.shotAt(1_000_000)).toEqual(llm.shots.find((s) => s.startUs <= 1_000_000 && 1_000_000 < s.endUs));
    const entry = d.trace().find((e) => e.chat?.status === 'accepted')!;
    expect(entry.chat!.critiques!.find((c) => c.expert === 'text')!.applied.join(' ')).toMatch(/surprised -> serious/);
    expect(d.metrics.chatAccepted).toBe(1);
    await d.close();
  });

  it('falls back to the rule plan on an invalid answer and on a timeout, and counts it', async () => {
    server = await standIn(async (_req, _body, res, n) => {
      if (n === 1) return json(res, 200, completion('{"shots": "no"}'));
      await sleep(1_000);
      if (!res.destroyed) json(res, 200, completion('{}'));
    });
    const d = new Director({ chat: { baseUrl: server.url, model: 'm', timeoutMs: 200, retries: 0 } }, { nowUs: () => 0 });
    const reasons: string[] = [];
    d.on('fallback', (f) => reasons.push(f.reason));
    feed(d);
    d.planNow('input');
    await until(() => reasons.length === 1);
    d.instruction('smile more', 0);
    d.planNow('input');
    await until(() => reasons.length === 2);
    expect(reasons).toEqual(['invalid', 'timeout']);
    expect(d.metrics.fallbacks).toBe(2);
    expect(d.latestPlan!.source).toBe('rules');
    expect(d.trace().map((e) => e.chat?.status)).toEqual(['invalid', 'timeout']);
    await d.close();
  });

  it('drops an answer that comes after playback passed its window, and counts it late', async () => {
    server = await standIn(async (_req, body, res) => {
      await sleep(400);
      json(res, 200, completion(standInPlan(askedWindow(body))));
    });
    const t0 = performance.now();
    const d = new Director({ lateToleranceMs: 100, chat: { baseUrl: server.url, model: 'm' } }, { nowUs: () => Math.round((performance.now() - t0) * 1000) });
    feed(d);
    d.planNow('input');
    await until(() => d.metrics.lateAnswers === 1);
    expect(d.metrics.chatAccepted).toBe(0);
    expect(d.latestPlan!.source).toBe('rules');
    expect(d.trace()[0]!.chat!.status).toBe('late');
    await d.close();
  });

  it('a backend that hangs never stops the plans: the rule plans keep covering the look-ahead', async () => {
    server = await standIn(() => {
      // never answers
    });
    const t0 = performance.now();
    const now = () => Math.round((performance.now() - t0) * 1000);
    const d = new Director({ lookaheadMs: 2_000, tickMs: 20, replanIntervalMs: 100, chat: { baseUrl: server.url, model: 'm', timeoutMs: 60_000 } }, { nowUs: now });
    d.start();
    feed(d);
    const gaps: number[] = [];
    for (let i = 0; i < 30; i++) {
      await sleep(50);
      const n = now();
      // Every instant of the next second has a shot from a plan that covers it.
      for (let dt = 0; dt <= 1_000_000; dt += 100_000) if (!d.planAt(n + dt)) gaps.push(n + dt);
    }
    expect(gaps).toEqual([]);
    expect(d.metrics.chatRequests).toBeGreaterThanOrEqual(1);
    expect(d.metrics.chatAccepted).toBe(0);
    expect(d.metrics.plansPublished).toBeGreaterThan(5);
    const tc = performance.now();
    await d.close(); // aborts the hanging request
    expect(performance.now() - tc).toBeLessThan(500);
  });
});
