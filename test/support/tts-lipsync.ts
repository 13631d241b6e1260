// One TTS lip-sync run, measured in the page: a turn streamed 3x faster than real time with its text to a session
// with one Chromium viewer, played at the normal pace. Three views of where the mouth sits against the audio:
// - tap: mouth opening vs the envelope of a WebAudio tap on the received track (what the test used to assert; the
//   tap's own latency, mapped through AudioContext.getOutputTimestamp, varies by tens of ms in headless Chromium);
// - playout: mouth opening vs the level of the packets the receiver plays out (RFC 6464, written by the server),
//   timed when the receiver delivered them to the track;
// - rtp: no image measure at all: the media time on screen (a presented frame's RTP timestamp) against the media
//   time being played (the last played packet's RTP timestamp), both through the sender's timestamp offsets.
// The e2e test asserts one run; bench/tts-lipsync.ts records the spread over many.
import type { Browser } from './browser.ts';
import type { AudioCapture } from './page-api.ts';
import { record, type Recording } from './page-api.ts';
import { createSession, endSession, mouthBox, sessionDetails } from './server.ts';
import { openViewer, streamPcm } from './interrupt.ts';
import { measureLipSync, type LipSyncResult } from './lipsync.ts';
import { percentile } from './signal-analysis.ts';
import { JsonSocket } from './ws-client.ts';

interface RtpClock {
  timestampOffset: number;
  clockRate: number;
}

export interface TtsLipSyncRun {
  audioMs: number;
  sendMs: number;
  playedMs: number;
  positionMs: number;
  interrupted: boolean;
  tap: LipSyncResult;
  playout: LipSyncResult;
  /** Video shown minus audio played for the same media time (ms, median over the run; positive: mouth late). */
  rtpOffsetMs: number;
  /** The spread of that offset over the run (p10, p90), from the frames and played packets taken one by one. */
  rtpOffsetP10Ms: number;
  rtpOffsetP90Ms: number;
  framesWithRtp: number;
  packetsWithRtp: number;
  report: string;
}

/** Media time in ms of an RTP timestamp on a stream's clock. */
function mediaMs(rtp: number, clock: RtpClock): number {
  return (((rtp - clock.timestampOffset) % 2 ** 32) + 2 ** 32) % 2 ** 32 / (clock.clockRate / 1000);
}

/** The receiver's played packets (each taken once) as an envelope on a 10 ms grid, level held between packets. */
export function playoutEnvelope(rec: Recording): AudioCapture {
  const seen = new Set<number>();
  const packets: { t: number; level: number }[] = [];
  rec.levels.t.forEach((_, i) => {
    const rtp = rec.levels.rtp[i];
    const at = rec.levels.playedAt[i];
    const level = rec.levels.level[i];
    if (rtp == null || at == null || level == null || seen.has(rtp)) return;
    seen.add(rtp);
    packets.push({ t: at, level });
  });
  packets.sort((a, b) => a.t - b.t);
  const times: number[] = [];
  const envelope: number[] = [];
  if (packets.length === 0) return { t0: 0, sampleRate: 100, envelope, times };
  for (let t = packets[0]!.t, k = 0; t <= packets[packets.length - 1]!.t; t += 10) {
    while (k + 1 < packets.length && packets[k + 1]!.t <= t) k++;
    times.push(t);
    envelope.push(packets[k]!.level);
  }
  return { t0: times[0]!, sampleRate: 100, envelope, times };
}

/** Video shown minus audio played, per frame, for the same media time (ms). */
export function rtpOffsets(rec: Recording, clocks: { video: RtpClock; audio: RtpClock }): { offsets: number[]; packets: number } {
  // Audio: wall time minus media time of each played packet; the packet's 20 ms span from its first sample.
  const audio: { at: number; wallMinusMedia: number }[] = [];
  const seen = new Set<number>();
  rec.levels.t.forEach((_, i) => {
    const rtp = rec.levels.rtp[i];
    const at = rec.levels.playedAt[i];
    if (rtp == null || at == null || seen.has(rtp)) return;
    seen.add(rtp);
    audio.push({ at, wallMinusMedia: at - mediaMs(rtp, clocks.audio) });
  });
  audio.sort((a, b) => a.at - b.at);
  const offsets: number[] = [];
  rec.frames.rtp.forEach((rtp, i) => {
    const shown = rec.frames.shownAt[i]!;
    // The audio clock's offset around the same moment (median of packets within 200 ms).
    const near = audio.filter((a) => Math.abs(a.at - shown) < 200).map((a) => a.wallMinusMedia);
    if (near.length < 3) return;
    offsets.push(shown - mediaMs(rtp, clocks.video) - percentile(near, 0.5));
  });
  return { offsets, packets: audio.length };
}

export async function runTtsLipSync(browser: Browser, server: { base: string; key: string }, pcm24: Buffer, text: string, opts: { life?: boolean } = {}): Promise<TtsLipSyncRun> {
  const s = await createSession(server.base, server.key, opts.life === false ? { life: false } : {});
  const page = await openViewer(browser, s.urls.view);
  const c = await JsonSocket.open(`${s.urls.ingest}&encoding=pcm16&sampleRate=24000`);
  try {
    await c.next((m) => m.type === 'ready');
    const box = await mouthBox(server.base);
    const audioMs = (pcm24.length / 2 / 24_000) * 1000;
    const recording = record(page, box, audioMs + 1_500);
    c.send({ type: 'text', text });
    const sendMs = await streamPcm(c, pcm24, 3);
    c.send({ type: 'end_of_turn' });
    const started = await c.next((m) => m.type === 'playback_started');
    const finished = await c.next((m) => m.type === 'playback_finished', 30_000);
    const rec = await recording;
    const details = await sessionDetails<{ rtpClocks: { video: RtpClock; audio: RtpClock } }>(server.base, server.key, s.sessionId);

    const tap = measureLipSync(rec);
    const playout = measureLipSync({ ...rec, audio: playoutEnvelope(rec) });
    const { offsets, packets } = rtpOffsets(rec, details.rtpClocks);
    const run: TtsLipSyncRun = {
      audioMs,
      sendMs,
      playedMs: (finished.wallTimeMs as number) - (started.wallTimeMs as number),
      positionMs: finished.positionMs as number,
      interrupted: finished.interrupted === true,
      tap,
      playout,
      rtpOffsetMs: offsets.length ? percentile(offsets, 0.5) : NaN,
      rtpOffsetP10Ms: offsets.length ? percentile(offsets, 0.1) : NaN,
      rtpOffsetP90Ms: offsets.length ? percentile(offsets, 0.9) : NaN,
      framesWithRtp: offsets.length,
      packetsWithRtp: packets,
      report: '',
    };
    run.report =
      `viewer ${tap.fps.toFixed(1)} fps; mouth vs audio: WebAudio tap r=${tap.r.toFixed(2)} at ${tap.lagMs} ms (chance ${tap.shuffledR.toFixed(2)}), ` +
      `receiver playout r=${playout.r.toFixed(2)} at ${playout.lagMs} ms (chance ${playout.shuffledR.toFixed(2)}); ` +
      `RTP: video shown - audio played for one media time ${run.rtpOffsetMs.toFixed(1)} ms (p10 ${run.rtpOffsetP10Ms.toFixed(1)}, p90 ${run.rtpOffsetP90Ms.toFixed(1)}; ${offsets.length} frames, ${packets} packets)`;
    return run;
  } finally {
    await page.close().catch(() => undefined);
    c.close();
    await endSession(server.base, server.key, s.sessionId);
  }
}
