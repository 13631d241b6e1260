// One barge-in, measured in the page: a TTS turn streamed 3x faster than real time to a session with one Chromium
// viewer, interrupted inside a word; then when the audio (at the receiver's playout, and through a WebAudio tap) and
// the mouth (in the frames the page presents) stop, against when the interrupt was sent. The e2e test asserts the
// goal on one run; bench/interrupt.ts records the spread over many.
import type { Page } from 'playwright-core';
import type { Browser } from './browser.ts';
import { createSession, endSession, mouthBox, sessionDetails } from './server.ts';
import { record, waitLive } from './page-api.ts';
import { JsonSocket } from './ws-client.ts';
import { insideSpeechMs, mouthOpening, percentile } from './signal-analysis.ts';

/** Streams PCM16 @ 24 kHz in 100 ms pieces at `speed` x real time; resolves when all is sent (or stopped). */
export async function streamPcm(c: JsonSocket, pcm: Buffer, speed: number, signal?: { stop: boolean }): Promise<number> {
  const piece = 4_800; // 100 ms at 24 kHz, 2 bytes a sample
  const t0 = Date.now();
  for (let off = 0, k = 0; off < pcm.length && !signal?.stop; off += piece, k++) {
    c.send(pcm.subarray(off, off + piece));
    const due = t0 + ((k + 1) * 100) / speed;
    await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
  }
  return Date.now() - t0;
}

export async function openViewer(browser: Browser, url: string): Promise<Page> {
  const page = await browser.context.newPage();
  await page.goto(url);
  await waitLive(page);
  return page;
}

interface SessionDetails {
  pacer: { recentLateP95Us: number; maxLateUs: number; stalls: { tickMs: number; lateMs: number }[] };
  mediaTimeMs: number;
  cutFrames: number;
  graceFrames: number;
  lastInterrupt: { audioCutMs: number | null; mouthCutMs: number | null } | null;
}

export interface InterruptRun {
  /** Where in the turn the interrupt was sent, ms. */
  atMs: number;
  interrupted: boolean;
  positionMs: number;
  droppedMs: number;
  /** Sanity: the page was hearing the turn, and showing the mouth open in the 200 ms before the event. */
  audioActiveBefore: boolean;
  playedLoudBefore: boolean;
  mouthOpenBefore: boolean;
  /** How open the mouth was while talking (p90 over the 1.2 s before, % of the region). */
  mouthOpenPct: number;
  /** From the interrupt to the last loud audio at the receiver's playout, through the WebAudio tap, and to the first frame of a mouth that stays shut. */
  playoutStopMs: number;
  tapStopMs: number;
  mouthStopMs: number;
  server: { audioCutMs: number | null; mouthCutMs: number | null; lateP95Ms: number; maxLateMs: number; cutFrames: number; graceFrames: number };
  page: { audioBufferMs: number | null; videoBufferMs: number | null; frameGapP50Ms: number; frameGapP90Ms: number };
  /** What happened, for the log. */
  report: string[];
}

export async function runInterrupt(browser: Browser, server: { base: string; key: string }, pcm24: Buffer): Promise<InterruptRun> {
  // Only the mouth moves ("life": false): blinks, sway and a new shot's expression after the turn are deliberate
  // motion that a mouth-region measure cannot tell from talking.
  const s = await createSession(server.base, server.key, { life: false });
  const page = await openViewer(browser, s.urls.view);
  const c = await JsonSocket.open(`${s.urls.ingest}&encoding=pcm16&sampleRate=24000`);
  try {
    await c.next((m) => m.type === 'ready');
    const box = await mouthBox(server.base);
    const recording = record(page, box, 7_000);
    const stopSending = { stop: false };
    const sending = streamPcm(c, pcm24, 3, stopSending);
    const started = await c.next((m) => m.type === 'playback_started');
    // Mid-sentence, inside a word: loud for 120 ms before the event (the page, ~40 ms behind, shows the mouth open
    // then) and 100 ms after, so the mouth would still be talking if the interrupt did not stop it.
    const atMs = insideSpeechMs(new Int16Array(pcm24.buffer, pcm24.byteOffset, pcm24.length / 2), 24_000, 1_200, 120, 100);
    // At a random phase of the server's 20 ms ticks, as a person barges in: timed from playback_started alone, the
    // event would always land just after a tick (the worst case for the audio cut, which waits for the next one).
    const phaseMs = Math.random() * 20;
    await new Promise((r) => setTimeout(r, Math.max(0, (started.wallTimeMs as number) + atMs + phaseMs - Date.now())));
    // The TTS stops producing, then tells the server (as an agent does on barge-in).
    stopSending.stop = true;
    const buffers = await page.evaluate(() => ({ audio: window.facecast.stats.audioJitterBufferMs, video: window.facecast.stats.videoJitterBufferMs }));
    const interruptAt = Date.now();
    c.send({ type: 'interrupt' });
    const ack = await c.next((m) => m.type === 'interrupted');
    const finished = await c.next((m) => m.type === 'playback_finished');
    await sending;
    const rec = await recording;
    const details = await sessionDetails<SessionDetails>(server.base, server.key, s.sessionId);

    const wall = (t: number) => rec.timeOrigin + t;
    // Audio through the tap: the last 10 ms bin above 15% of the peak (unsmoothed: smoothing smears the stop).
    const env = rec.audio.envelope;
    const envWall = env.map((_, i) => wall(rec.audio.t0 + i * 10));
    const peak = percentile(env, 0.98);
    const loud = envWall.filter((_, i) => env[i] > 0.15 * peak);
    // The same audio as the receiver plays it out (its source's level, written by the server per chunk).
    const lv = rec.levels.level.map((l) => l ?? 0);
    const lvPeak = percentile(lv, 0.98);
    const playedLoud = rec.levels.t.filter((_, i) => lv[i]! > 0.15 * lvPeak).map(wall);

    // Mouth: how open it is per frame (dark mouth pixels against the rest frames, long after the cut). It has
    // stopped at the first frame from which it stays shut: the cut closes it, and nothing opens it again.
    const fw = rec.frames.t.map(wall);
    const gaps = fw.slice(1).map((t, i) => t - fw[i]).sort((a, b) => a - b);
    const restIdx = fw.map((t, i) => ({ t, i })).filter(({ t }) => t > interruptAt + 800).map(({ i }) => i);
    const opening = mouthOpening(rec.frames.gray, restIdx);
    const talking = opening.filter((_, i) => fw[i] < interruptAt && fw[i] > interruptAt - 1_200);
    const open = percentile(talking, 0.9);
    const shut = 0.15 * open;
    const lastOpen = fw.reduce((k, t, i) => (t <= interruptAt + 800 && opening[i] > shut ? i : k), -1);
    const mouthStopAt = fw[lastOpen + 1] ?? Infinity;

    const run: InterruptRun = {
      atMs,
      interrupted: finished.interrupted === true,
      positionMs: finished.positionMs as number,
      droppedMs: ack.droppedMs as number,
      audioActiveBefore: loud.some((t) => t > interruptAt - 300 && t <= interruptAt),
      playedLoudBefore: playedLoud.some((t) => t > interruptAt - 300 && t <= interruptAt),
      mouthOpenBefore: fw.some((t, i) => t > interruptAt - 200 && t <= interruptAt && opening[i] > 0.5 * open),
      mouthOpenPct: open,
      playoutStopMs: Math.max(...playedLoud) - interruptAt,
      tapStopMs: Math.max(...loud) - interruptAt,
      mouthStopMs: mouthStopAt - interruptAt,
      server: {
        audioCutMs: details.lastInterrupt?.audioCutMs ?? null,
        mouthCutMs: details.lastInterrupt?.mouthCutMs ?? null,
        lateP95Ms: details.pacer.recentLateP95Us / 1000,
        maxLateMs: details.pacer.maxLateUs / 1000,
        cutFrames: details.cutFrames,
        graceFrames: details.graceFrames,
      },
      page: { audioBufferMs: buffers.audio, videoBufferMs: buffers.video, frameGapP50Ms: gaps[gaps.length >> 1] ?? NaN, frameGapP90Ms: gaps[Math.floor(gaps.length * 0.9)] ?? NaN },
      report: [],
    };
    const around = fw.map((t, i) => ({ t: t - interruptAt, o: opening[i] })).filter(({ t }) => t > -200 && t < 240);
    run.report.push(
      `mouth around the interrupt (ms: opening, open ${open.toFixed(1)}, shut below ${shut.toFixed(1)}): ${around.map(({ t, o }) => `${t.toFixed(0)}: ${o.toFixed(1)}`).join(', ')}`,
      `interrupt ${atMs} ms into the turn: audio stops ${run.playoutStopMs.toFixed(0)} ms (receiver playout level) / ${run.tapStopMs.toFixed(0)} ms (WebAudio tap) and the mouth ${run.mouthStopMs.toFixed(0)} ms after the event (dropped ${run.droppedMs} ms of queued audio; page jitter buffers before it: audio ${buffers.audio?.toFixed(0)} ms, video ${buffers.video?.toFixed(0)} ms; captured frame gaps p50 ${run.page.frameGapP50Ms.toFixed(0)} / p90 ${run.page.frameGapP90Ms.toFixed(0)} ms; server: silence out ${run.server.audioCutMs?.toFixed(1)} ms and a closed mouth out ${run.server.mouthCutMs?.toFixed(1)} ms after it got the interrupt, cut frames ${run.server.cutFrames}, waited-for frames ${run.server.graceFrames}, ticks late p95 ${run.server.lateP95Ms.toFixed(1)} ms, max ${run.server.maxLateMs.toFixed(0)} ms, stalls (media ms: late ms) ${details.pacer.stalls.map((x) => `${x.tickMs}: ${x.lateMs}`).join(', ')})`,
    );
    return run;
  } finally {
    await page.close().catch(() => undefined);
    c.close();
    await endSession(server.base, server.key, s.sessionId);
  }
}
