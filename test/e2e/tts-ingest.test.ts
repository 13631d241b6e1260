// End to end for assistant faces: a Node `ws` client streams TTS audio (PCM16 at 24 kHz)
// three times faster than real time with its text; a Chromium viewer gets the video at the
// normal pace with the mouth following the audio; an interrupt mid-sentence: silence and a
// closed mouth leave the server within a tick, and the page stops within 80 ms of the event.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { FIRST_SENTENCE, SECOND_SENTENCE, makeSpeechFixture, type SpeechFixture } from '../support/audio-fixtures.ts';
import { launchBrowser, type Browser } from '../support/browser.ts';
import { createSession, mouthBox } from '../support/server.ts';
import { startServerProcess, type ServerProcess } from '../support/server-process.ts';
import { record, waitLive, type Recording } from '../support/page-api.ts';
import { measureLipSync } from '../support/lipsync.ts';
import { JsonSocket } from '../support/ws-client.ts';
import { insideSpeechMs, mouthOpening, percentile } from '../support/signal-analysis.ts';

// The server runs in its own process: this test's analysis of what the page captured would stall its pacer.
let server: ServerProcess;
let browser: Browser;
let fixture: SpeechFixture;
let pcm24: Buffer;

beforeAll(async () => {
  fixture = makeSpeechFixture(join(tmpdir(), 'facecast-fixtures'), { leadS: 0.3, gapS: 2, tailS: 0.5 });
  pcm24 = readFileSync(fixture.raw24);
  server = await startServerProcess();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** Streams PCM16 @ 24 kHz in 100 ms pieces at `speed` x real time; resolves when all is sent. */
async function stream(c: JsonSocket, pcm: Buffer, speed: number, signal?: { stop: boolean }): Promise<number> {
  const piece = 4_800; // 100 ms at 24 kHz, 2 bytes a sample
  const t0 = Date.now();
  for (let off = 0, k = 0; off < pcm.length && !signal?.stop; off += piece, k++) {
    c.send(pcm.subarray(off, off + piece));
    const due = t0 + ((k + 1) * 100) / speed;
    await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
  }
  return Date.now() - t0;
}

async function viewerFor(sessionUrl: string): Promise<Page> {
  const page = await browser.context.newPage();
  await page.goto(sessionUrl);
  await waitLive(page);
  return page;
}

describe('TTS ingest over WebSocket', () => {
  it('plays audio sent 3x faster than real time at the normal pace, with the mouth following it', async () => {
    const s = await createSession(server.base, server.key);
    const page = await viewerFor(s.urls.view);
    const c = await JsonSocket.open(`${s.urls.ingest}&encoding=pcm16&sampleRate=24000`);
    await c.next((m) => m.type === 'ready');
    const box = await mouthBox(server.base);
    const recording = record(page, box, fixture.durationS * 1000 + 1_500);
    c.send({ type: 'text', text: `${FIRST_SENTENCE} ${SECOND_SENTENCE}` });
    const sendMs = await stream(c, pcm24, 3);
    c.send({ type: 'end_of_turn' });
    const started = await c.next((m) => m.type === 'playback_started');
    const finished = await c.next((m) => m.type === 'playback_finished', 30_000);
    const rec: Recording = await recording;
    page.close().catch(() => undefined);
    c.close();

    const audioMs = fixture.durationS * 1000;
    const playedMs = (finished.wallTimeMs as number) - (started.wallTimeMs as number);
    console.info(`sent ${audioMs.toFixed(0)} ms of audio in ${sendMs} ms; played over ${playedMs} ms; position ${finished.positionMs} ms`);
    expect(sendMs).toBeLessThan(audioMs / 2);
    expect(finished.interrupted).toBe(false);
    expect(Math.abs((finished.positionMs as number) - audioMs)).toBeLessThanOrEqual(40);
    expect(Math.abs(playedMs - audioMs) / audioMs).toBeLessThan(0.05);

    const m = measureLipSync(rec);
    console.info(`viewer: ${m.fps.toFixed(1)} fps, lip sync r=${m.r.toFixed(2)} at ${m.lagMs} ms (chance ${m.shuffledR.toFixed(2)}), silence/speech ${m.silenceRatio.toFixed(2)}`);
    expect(m.fps).toBeGreaterThanOrEqual(20);
    expect(m.speechFrames).toBeGreaterThan(25);
    expect(m.r).toBeGreaterThanOrEqual(0.5);
    expect(m.r - m.shuffledR).toBeGreaterThan(0.2);
    expect(Math.abs(m.lagMs)).toBeLessThanOrEqual(120);
  });

  // Timing on a shared 2-core machine, with the server, Chromium and the capture on the same cores: the same
  // assertion may be retried twice.
  it('an interrupt mid-sentence: silence and a closed mouth leave the server within a tick, and the page stops both within 80 ms', { retry: 2 }, async () => {
    // Only the mouth moves ("life": false): blinks, sway and a new shot's expression after the
    // turn are deliberate motion that a mouth-region measure cannot tell from talking.
    const s = await createSession(server.base, server.key, { life: false });
    const page = await viewerFor(s.urls.view);
    const c = await JsonSocket.open(`${s.urls.ingest}&encoding=pcm16&sampleRate=24000`);
    await c.next((m) => m.type === 'ready');
    const box = await mouthBox(server.base);
    const recording = record(page, box, 5_000);
    const stopSending = { stop: false };
    const sending = stream(c, pcm24, 3, stopSending);
    const started = await c.next((m) => m.type === 'playback_started');
    // Inside a word of the first sentence (it starts 0.3 s in, lasts ~4 s): loud for 60 ms before the event (what the
    // page is playing then) and 120 ms after, so the mouth would still be moving if the interrupt did not stop it.
    const atMs = insideSpeechMs(new Int16Array(pcm24.buffer, pcm24.byteOffset, pcm24.length / 2), 24_000, 1_200, 60, 120);
    await new Promise((r) => setTimeout(r, Math.max(0, (started.wallTimeMs as number) + atMs - Date.now())));
    // The TTS stops producing, then tells the server (as an agent does on barge-in).
    stopSending.stop = true;
    const buffers = await page.evaluate(() => ({ audio: window.facecast.stats.audioJitterBufferMs, video: window.facecast.stats.videoJitterBufferMs }));
    const inbound = await page.evaluate(() => window.facecast.receiverStats());
    const pick = (s: Record<string, unknown> | null) =>
      s && Object.fromEntries(['jitterBufferDelay', 'jitterBufferTargetDelay', 'jitterBufferMinimumDelay', 'jitterBufferEmittedCount', 'jitter', 'totalProcessingDelay', 'framesDecoded'].map((k) => [k, s[k]]));
    console.info(`receivers before the interrupt: ${JSON.stringify({ audio: pick(inbound.audio), video: pick(inbound.video) })}`);
    const interruptAt = Date.now();
    c.send({ type: 'interrupt' });
    const ack = await c.next((m) => m.type === 'interrupted');
    const finished = await c.next((m) => m.type === 'playback_finished');
    await sending;
    const rec = await recording;
    const details = (await (await fetch(`${server.base}/api/sessions/${s.sessionId}`, { headers: { authorization: `Bearer ${server.key}` } })).json()) as {
      pacer: { recentLateP95Us: number; maxLateUs: number; stalls: { tickMs: number; lateMs: number }[] };
      mediaTimeMs: number;
      cutFrames: number;
      graceFrames: number;
      lastInterrupt: { audioCutMs: number | null; mouthCutMs: number | null } | null;
    };
    page.close().catch(() => undefined);
    c.close();
    expect(finished.interrupted).toBe(true);
    expect(finished.positionMs as number).toBeGreaterThan(atMs - 100);
    expect(finished.positionMs as number).toBeLessThan(atMs + 200);
    expect(ack.droppedMs as number).toBeGreaterThan(500);

    const wall = (t: number) => rec.timeOrigin + t;
    // Audio: the last 10 ms bin above 15% of the peak (unsmoothed: smoothing smears the stop).
    const env = rec.audio.envelope;
    // Bin times by sample count from the first bin (the clock the mic benchmark checked).
    const envWall = env.map((_, i) => wall(rec.audio.t0 + i * 10));
    const peak = percentile(env, 0.98);
    const loud = envWall.filter((t, i) => env[i] > 0.15 * peak);
    const audioActiveBefore = loud.some((t) => t > interruptAt - 300 && t <= interruptAt);
    const audioEnd = Math.max(...loud);
    // The same audio as the receiver plays it out (its source's level, written by the server per chunk).
    const lv = rec.levels.level.map((l) => l ?? 0);
    const lvPeak = percentile(lv, 0.98);
    const playedLoud = rec.levels.t.filter((t, i) => lv[i]! > 0.15 * lvPeak).map(wall);
    const playoutEnd = Math.max(...playedLoud);
    const aroundAudio = envWall.map((t, i) => ({ t: t - interruptAt, e: env[i] / peak })).filter(({ t }) => t > -60 && t < 220);
    console.info(`audio around the interrupt (ms: level / peak): ${aroundAudio.map(({ t, e }) => `${t.toFixed(0)}: ${e.toFixed(2)}`).join(', ')}`);

    // Mouth: how open it is per frame, then its motion (change between frames): talking moves
    // it several times a second; an expression easing in after the turn (the director's next
    // shot) changes it slowly and is not talking.
    const fw = rec.frames.t.map(wall);
    const gaps = fw.slice(1).map((t, i) => t - fw[i]).sort((a, b) => a - b);
    console.info(`frame gaps p50 ${gaps[gaps.length >> 1].toFixed(0)} p90 ${gaps[Math.floor(gaps.length * 0.9)].toFixed(0)} ms over ${fw.length} frames`);
    const restIdx = fw.map((t, i) => ({ t, i })).filter(({ t }) => t > interruptAt + 800).map(({ i }) => i);
    const opening = mouthOpening(rec.frames.gray, restIdx);
    const motion = opening.map((o, i) => (i === 0 ? 0 : Math.abs(o - opening[i - 1]) / Math.max(1, (fw[i] - fw[i - 1]) / 40)));
    const before = motion.filter((_, i) => fw[i] < interruptAt && fw[i] > interruptAt - 1_200);
    const threshold = 0.3 * percentile(before, 0.9);
    const moving = fw.filter((t, i) => motion[i] > threshold && t > interruptAt - 1_200);
    const mouthEnd = Math.max(...moving);
    const around = fw.map((t, i) => ({ t: t - interruptAt, o: opening[i], m: motion[i] })).filter(({ t }) => t > -120 && t < 240);
    console.info(`mouth around the interrupt (ms: opening/motion, threshold ${threshold.toFixed(2)}): ${around.map(({ t, o, m }) => `${t.toFixed(0)}: ${o.toFixed(1)}/${m.toFixed(1)}`).join(', ')}`);
    console.info(`interrupt ${atMs} ms into the turn: audio stops ${(audioEnd - interruptAt).toFixed(0)} ms (WebAudio tap) / ${(playoutEnd - interruptAt).toFixed(0)} ms (receiver playout level) and the mouth ${(mouthEnd - interruptAt).toFixed(0)} ms after the event (dropped ${ack.droppedMs} ms of queued audio; page jitter buffers before it: audio ${buffers.audio?.toFixed(0)} ms, video ${buffers.video?.toFixed(0)} ms; server ticks late p95 ${(details.pacer.recentLateP95Us / 1000).toFixed(1)} ms, max ${(details.pacer.maxLateUs / 1000).toFixed(0)} ms; cut frames ${details.cutFrames}, waited-for frames ${details.graceFrames}; server: silence out ${details.lastInterrupt?.audioCutMs?.toFixed(1)} ms and a closed mouth out ${details.lastInterrupt?.mouthCutMs?.toFixed(1)} ms after it got the interrupt; stalls (media ms: late ms) ${details.pacer.stalls.map((x) => `${x.tickMs}: ${x.lateMs}`).join(', ')}; media time now ${details.mediaTimeMs.toFixed(0)} ms)`);
    expect(audioActiveBefore).toBe(true);
    expect(percentile(before, 0.9)).toBeGreaterThan(2); // the mouth was really moving (% of the region per frame)
    // The goal (issue "End to end"): the mouth and the audio stop within 80 ms of the event, in the page. The server's
    // part: silence leaves at the next 20 ms tick, a frame with the mouth closed at that media time as soon as it is
    // rendered (or at the next frame slot).
    expect(details.lastInterrupt?.audioCutMs).toBeLessThanOrEqual(25);
    expect(details.lastInterrupt?.mouthCutMs).toBeLessThanOrEqual(65);
    // In the page, what Chromium already holds still plays out: its audio jitter buffer (24-50 ms here once the
    // server's event loop stopped stalling at a socket's start, see audio/resampler.ts, and stopped walking a 31 MB
    // dictionary at every GC, see audio/visemes/packed-words.ts; 60-140 ms before, when NetEq answered the stalls),
    // the video's decode and render. The audio is taken at the receiver's playout (the level of the source it is
    // playing, RFC 6464 from the server), the mouth from frames as the page presents them (captured ~20 fps under
    // this load, so the figure is late by up to a capture interval). Measured over 11 attempts: audio 25-45 ms, mouth
    // 44-72 ms but once 90 ms, hence the retries.
    expect(playedLoud.some((t) => t > interruptAt - 300 && t <= interruptAt)).toBe(true);
    expect(playoutEnd - interruptAt).toBeLessThanOrEqual(80);
    expect(mouthEnd - interruptAt).toBeLessThanOrEqual(80);
  });
});
