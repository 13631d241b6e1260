// GET /metrics: the Prometheus text format, scraped from a real server with a talking session. Every sample line
// parses, every family has HELP and TYPE, and the figures move: ticks counted, frames sent, the session and its
// mediasoup worker's CPU present, the event-loop delay reported.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeSpeechFixture } from '../support/audio-fixtures.ts';
import { createSession, endSession, startTestServer } from '../support/server.ts';
import { JsonSocket } from '../support/ws-client.ts';
import { parsePrometheus as parse, sampleValue } from '../support/prometheus.ts';

let server: Awaited<ReturnType<typeof startTestServer>>;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

const value = sampleValue;

describe('GET /metrics', () => {
  it('serves the Prometheus text format with the pipeline\'s figures moving', async () => {
    const before = parse(await (await fetch(`${server.base}/metrics`)).text());
    const s = await createSession(server.base, server.key);
    const c = await JsonSocket.open(`${s.urls.ingest}&encoding=pcm16&sampleRate=24000`);
    await c.next((m) => m.type === 'ready');
    const fixture = makeSpeechFixture(join(tmpdir(), 'facecast-fixtures'), { leadS: 0.3, gapS: 0.5, tailS: 0.3 });
    c.send(readFileSync(fixture.raw24).subarray(0, 24_000 * 2 * 2));
    c.send({ type: 'end_of_turn' });
    await c.next((m) => m.type === 'playback_finished', 15_000);

    const res = await fetch(`${server.base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const { samples, help, type } = parse(await res.text());
    // Every family announced; every sample belongs to one.
    for (const [family] of type) expect(help.has(family)).toBe(true);
    for (const x of samples) expect([...type.keys()].some((f) => x.name === f || x.name.startsWith(`${f}_`))).toBe(true);

    expect(value(samples, 'facecast_sessions')).toBe(1);
    expect(type.get('facecast_pacer_tick_lateness_seconds')).toBe('histogram');
    const ticks = value(samples, 'facecast_pacer_tick_lateness_seconds_count')! - (value(before.samples, 'facecast_pacer_tick_lateness_seconds_count') ?? 0);
    expect(ticks).toBeGreaterThan(50); // 2 s of audio and more: 20 ms ticks
    expect(value(samples, 'facecast_video_frames_total', { kind: 'fresh' })).toBeGreaterThan(25);
    expect(value(samples, 'facecast_session_late_frames', { session: s.sessionId })).toBeGreaterThanOrEqual(0);
    expect(value(samples, 'facecast_stage_seconds_count', { stage: 'ingest' })).toBeGreaterThan(0);
    expect(value(samples, 'facecast_stage_seconds_count', { stage: 'audio_analysis' })).toBeGreaterThan(50);
    expect(value(samples, 'facecast_stage_seconds_count', { stage: 'render' })).toBeGreaterThan(25);
    expect(value(samples, 'facecast_stage_seconds_count', { stage: 'rtp' })).toBeGreaterThan(25);
    expect(samples.some((x) => x.name === 'facecast_worker_cpu_seconds' && x.labels.kind === 'mediasoup' && x.value > 0)).toBe(true);
    expect(samples.some((x) => x.name === 'facecast_worker_cpu_seconds' && x.labels.kind === 'render' && x.value > 0)).toBe(true);
    expect(value(samples, 'facecast_event_loop_delay_seconds', { quantile: '0.99' })).toBeGreaterThan(0);
    expect(value(samples, 'facecast_capacity_sessions')).toBeGreaterThanOrEqual(1);
    c.close();
    await endSession(server.base, server.key, s.sessionId);
  });
});
