// End to end, all real: Chromium's fake microphone plays espeak-ng speech (speech, 3 s of
// silence, speech) into the demo page -> mediasoup -> facecast -> the avatar's video and
// the voice back to the page and to a second viewer page. Measured on what the pages got.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { makeSpeechFixture, type SpeechFixture } from '../support/audio-fixtures.ts';
import { launchBrowser, type Browser } from '../support/browser.ts';
import { mouthBox, sessionDetails } from '../support/server.ts';
import { ffmpegChildrenOf, startServerProcess, type ServerProcess } from '../support/server-process.ts';
import { record, waitLive, type Recording } from '../support/page-api.ts';
import { measureLipSync } from '../support/lipsync.ts';
import { bestLagCorrelation, envelope, sampleAt, smooth } from '../support/signal-analysis.ts';

// The server runs in its own process: this test's analysis of what the page captured would stall its pacer.
let server: ServerProcess;
let browser: Browser;
/** The viewer gets its own browser: a background tab is not painted, so it would record nothing. */
let viewerBrowser: Browser;
let fixture: SpeechFixture;

beforeAll(async () => {
  fixture = makeSpeechFixture(join(tmpdir(), 'facecast-fixtures'), { leadS: 2, gapS: 3, tailS: 1 });
  server = await startServerProcess();
  [browser, viewerBrowser] = await Promise.all([launchBrowser({ micWav: fixture.wav48 }), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await viewerBrowser?.close();
  await server?.stop();
});

describe('microphone in a browser -> avatar back over WebRTC', () => {
  let publisher: Page;
  let viewer: Page;
  let pubRec: Recording;
  let viewRec: Recording;

  it('publishes the mic, goes live, and a viewer link plays the same session', async () => {
    publisher = await browser.context.newPage();
    await publisher.goto(`${server.base}/?key=${encodeURIComponent(server.key)}`);
    await publisher.evaluate(() => window.facecast.start());
    await waitLive(publisher);
    const viewerUrl = await publisher.evaluate(() => window.facecast.viewerUrl);
    expect(viewerUrl).toMatch(/\/view\?session=/);
    viewer = await viewerBrowser.context.newPage();
    await viewer.goto(viewerUrl!);
    await waitLive(viewer);

    const box = await mouthBox(server.base);
    [pubRec, viewRec] = await Promise.all([record(publisher, box, 12_000), record(viewer, box, 12_000)]);
    if (process.env.FACECAST_DUMP) (await import('node:fs')).writeFileSync(process.env.FACECAST_DUMP, JSON.stringify({ pubRec, viewRec }));

    // One encode per session whatever the number of viewers.
    expect(ffmpegChildrenOf(server.child.pid!)).toBe(1);
    const sessionId = await publisher.evaluate(() => new URLSearchParams(location.search).get('session') ?? (window as unknown as { facecast: { sessionId: string } }).facecast.sessionId);
    const info = await sessionDetails<{ viewers: number; hasPublisher: boolean; lateFrames: number; scheduler: unknown; director: unknown }>(server.base, server.key, sessionId);
    console.info(`server: late frames ${info.lateFrames}, scheduler ${JSON.stringify(info.scheduler)}, director ${JSON.stringify(info.director)}`);
    expect(info.viewers).toBe(2);
    expect(info.hasPublisher).toBe(true);
  });

  it('the page decodes >= 20 fps for 10+ s, on both pages', () => {
    expect(pubRec.durationMs).toBeGreaterThanOrEqual(10_000);
    const pubFps = (pubRec.decodedFrames * 1000) / pubRec.durationMs;
    const viewFps = (viewRec.decodedFrames * 1000) / viewRec.durationMs;
    console.info(`decoded fps: publisher ${pubFps.toFixed(1)}, viewer ${viewFps.toFixed(1)}`);
    expect(pubFps).toBeGreaterThanOrEqual(20);
    expect(viewFps).toBeGreaterThanOrEqual(20);
  });

  it('the mouth moves with the speech, stays still in the silence, in sync with the voice', () => {
    for (const [name, rec] of [['publisher', pubRec], ['viewer', viewRec]] as const) {
      const m = measureLipSync(rec);
      console.info(`${name} lip sync: r=${m.r.toFixed(2)} at ${m.lagMs} ms (chance ${m.shuffledR.toFixed(2)}), silence/speech activity ${m.silenceRatio.toFixed(2)}, frames speech ${m.speechFrames} silent ${m.silentFrames}`);
      expect(m.speechFrames).toBeGreaterThan(25);
      expect(m.silentFrames).toBeGreaterThan(25); // the 3 s gap was captured
      expect(m.r).toBeGreaterThanOrEqual(0.5);
      expect(m.r - m.shuffledR).toBeGreaterThan(0.2);
      expect(Math.abs(m.lagMs)).toBeLessThanOrEqual(120);
      expect(m.silenceRatio).toBeLessThan(0.3);
    }
  });

  it('the audio the page receives follows the envelope that was sent', () => {
    const sent = smooth(envelope(fixture.samples, 480), 5); // 10 ms bins
    const got = smooth(pubRec.audio.envelope, 5);
    const ts = got.map((_, i) => i * 10);
    // The capture began somewhere in the file: search the offset.
    const best = bestLagCorrelation(ts, got, (t) => sampleAt(sent, 0, 10, t), -8_000, 0, 10);
    console.info(`received vs sent audio envelope: r=${best.r.toFixed(2)} at offset ${-best.lagMs} ms into the file`);
    expect(best.r).toBeGreaterThanOrEqual(0.7);
  });
});
