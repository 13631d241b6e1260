// End to end for assistant faces: a Node `ws` client streams TTS audio (PCM16 at 24 kHz)
// three times faster than real time with its text; a Chromium viewer gets the video at the
// normal pace with the mouth following the audio; an interrupt mid-sentence: silence and a
// closed mouth leave the server within a tick, and the page stops within 80 ms of the event.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIRST_SENTENCE, SECOND_SENTENCE, makeSpeechFixture, type SpeechFixture } from '../support/audio-fixtures.ts';
import { launchBrowser, type Browser } from '../support/browser.ts';
import { runInterrupt } from '../support/interrupt.ts';
import { startServerProcess, type ServerProcess } from '../support/server-process.ts';
import { runTtsLipSync } from '../support/tts-lipsync.ts';

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

describe('TTS ingest over WebSocket', () => {
  it('plays audio sent 3x faster than real time at the normal pace, with the mouth following it', async () => {
    const r = await runTtsLipSync(browser, server, pcm24, `${FIRST_SENTENCE} ${SECOND_SENTENCE}`);
    console.info(`sent ${r.audioMs.toFixed(0)} ms of audio in ${r.sendMs} ms; played over ${r.playedMs} ms; position ${r.positionMs} ms`);
    console.info(r.report);
    expect(r.sendMs).toBeLessThan(r.audioMs / 2);
    expect(r.interrupted).toBe(false);
    expect(Math.abs(r.positionMs - r.audioMs)).toBeLessThanOrEqual(40);
    expect(Math.abs(r.playedMs - r.audioMs) / r.audioMs).toBeLessThan(0.05);
    // The page shows and plays it: frames at ~25 fps, the mouth moving with the sound.
    expect(r.tap.fps).toBeGreaterThanOrEqual(20);
    expect(r.playout.speechFrames).toBeGreaterThan(25);
    expect(r.playout.r).toBeGreaterThanOrEqual(0.5);
    expect(r.playout.r - r.playout.shuffledR).toBeGreaterThan(0.2);
    // In sync within a frame: TTS audio is known ahead, so the mouth sits with the audio as the page plays it. Two
    // measures that share nothing: the mouth against the level of the packets the receiver plays out, and the RTP
    // timestamps of the frame on screen and of the packet being played. (A WebAudio tap on the track is no clock
    // for this: its latency, mapped through AudioContext.getOutputTimestamp, put the lag at -80..-50 ms in 20 runs
    // here and at +150 ms in one CI run, while the RTP offset stayed within half a frame; bench/tts-lipsync.ts
    // records all three.)
    expect(Math.abs(r.playout.lagMs)).toBeLessThanOrEqual(40);
    expect(r.framesWithRtp).toBeGreaterThan(100);
    expect(Math.abs(r.rtpOffsetMs)).toBeLessThanOrEqual(40);
  });

  // Timing on a shared 2-core machine, with the server, Chromium and the capture on the same cores: the same
  // assertion may be retried twice. bench/interrupt.ts records the spread over many runs.
  it('an interrupt mid-sentence: silence and a closed mouth leave the server within a tick, and the page stops both within 80 ms', { retry: 2 }, async () => {
    const r = await runInterrupt(browser, server, pcm24);
    for (const line of r.report) console.info(line);
    expect(r.interrupted).toBe(true);
    expect(r.positionMs).toBeGreaterThan(r.atMs - 100);
    expect(r.positionMs).toBeLessThan(r.atMs + 200);
    expect(r.droppedMs).toBeGreaterThan(500);
    // The page was hearing the turn and showing the mouth open, wide enough to measure (% of the region).
    expect(r.audioActiveBefore).toBe(true);
    expect(r.playedLoudBefore).toBe(true);
    expect(r.mouthOpenPct).toBeGreaterThan(3);
    expect(r.mouthOpenBefore).toBe(true);
    // The goal (issue "End to end"): the mouth and the audio stop within 80 ms of the event, in the page. The server's
    // part: silence leaves at the next 20 ms tick, a frame with the mouth closed at that media time as soon as it is
    // rendered (or at the next frame slot).
    expect(r.server.audioCutMs).toBeLessThanOrEqual(25);
    expect(r.server.mouthCutMs).toBeLessThanOrEqual(65);
    // In the page, what Chromium already holds still plays out: its audio jitter buffer (20-50 ms here once the
    // server's event loop stopped stalling at a socket's start, see audio/resampler.ts, and stopped walking a 31 MB
    // dictionary at every GC, see audio/visemes/packed-words.ts; 60-140 ms before, when NetEq answered the stalls),
    // and the video's decode and render (low-latency rendering, asked for with the playout-delay extension; its own
    // smoothing added ~20-40 ms). The audio is taken at the receiver's playout (the level of the source it is
    // playing, RFC 6464 from the server), the mouth from the frames the page presents (requestVideoFrameCallback,
    // so the figure is late by up to a frame). bench/interrupt.ts, 20 runs: audio p50 40 / p95 56 ms, mouth p50 41 /
    // p95 61 ms, all within 80.
    expect(r.playoutStopMs).toBeLessThanOrEqual(80);
    expect(r.mouthStopMs).toBeLessThanOrEqual(80);
  });
});
