// The soak: one session talking with pauses for a long time (TTS turns of espeak-ng speech with their text, a
// pause between turns), watched by a real Chromium viewer, on a `facecast serve` process of its own. Measured at
// the start (after a warm-up) and at the end: the A/V offset in the page (video shown minus audio played for one
// media time, from RTP timestamps: no image measure), the identity distance of the viewer's frames to the portrait
// (face-api descriptors on screenshots of the video), and all along the server's memory (RSS), file descriptors,
// threads and children; after the session ends, those are compared with the idle server's before it began.
// Usage: node --import tsx bench/soak.ts [--minutes 60] [--warmup-s 60] [--out bench/results/soak-60min.json]
// (the day-long run: --minutes 1440)
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import type { Page } from 'playwright-core';
import { detectFaces } from '../src/packs/default/index.ts';
import { FIRST_SENTENCE, SECOND_SENTENCE, makeSpeechFixture } from '../test/support/audio-fixtures.ts';
import { launchBrowser } from '../test/support/browser.ts';
import { openViewer } from '../test/support/interrupt.ts';
import { record } from '../test/support/page-api.ts';
import { processes } from '../test/support/proc-cpu.ts';
import { startServerProcess } from '../test/support/server-process.ts';
import { createSession, endSession, sessionDetails } from '../test/support/server.ts';
import { percentile } from '../test/support/signal-analysis.ts';
import { rtpOffsets } from '../test/support/tts-lipsync.ts';
import { JsonSocket } from '../test/support/ws-client.ts';
import { descriptorDistance } from './quality/measure.ts';
import { machine } from './machine.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '60' },
    'warmup-s': { type: 'string', default: '60' },
    'pause-s': { type: 'string', default: '3' },
    out: { type: 'string', default: 'bench/results/soak-60min.json' },
  },
});
const minutes = Number(values.minutes);
const warmupS = Number(values['warmup-s']);
const pauseS = Number(values['pause-s']);
if (!(minutes >= 1 && minutes <= 7 * 24 * 60)) throw new Error('--minutes must be 1..10080');
const round = (x: number, d = 1): number => Number(x.toFixed(d));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ProcFigures {
  rssMb: number;
  fds: number;
  threads: number;
  children: number;
}

function procFigures(pid: number): ProcFigures {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMb: round(field('VmRSS') / 1024), fds: readdirSync(`/proc/${pid}/fd`).length, threads: field('Threads'), children: processes().filter((p) => p.ppid === pid).length };
}

interface RtpClock {
  timestampOffset: number;
  clockRate: number;
}

/** The portrait's face descriptor, and the viewer's frames' distances to it (three screenshots, a second apart). */
async function identity(page: Page, reference: Float32Array): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < 3; i++) {
    const png = await page.locator('video').screenshot();
    const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const faces = await detectFaces(new Uint8Array(data), info.width, info.height);
    if (faces[0]) out.push(round(descriptorDistance(faces[0].descriptor, reference), 3));
    await sleep(1000);
  }
  return out;
}

/** Video shown minus audio played for one media time, over 8 s of the viewer (ms: median, p10, p90). */
async function avOffset(page: Page, base: string, key: string, sessionId: string): Promise<{ medianMs: number; p10Ms: number; p90Ms: number; frames: number }> {
  const rec = await record(page, { x: 0, y: 0, w: 8, h: 8 }, 8000);
  const details = await sessionDetails<{ rtpClocks: { video: RtpClock; audio: RtpClock } }>(base, key, sessionId);
  const { offsets } = rtpOffsets(rec, details.rtpClocks);
  if (offsets.length === 0) return { medianMs: NaN, p10Ms: NaN, p90Ms: NaN, frames: 0 };
  return { medianMs: round(percentile(offsets, 0.5)), p10Ms: round(percentile(offsets, 0.1)), p90Ms: round(percentile(offsets, 0.9)), frames: offsets.length };
}

const fixture = makeSpeechFixture(join(tmpdir(), 'facecast-fixtures'), { leadS: 0.3, gapS: 0.8, tailS: 0.3 });
const pcm24 = readFileSync(fixture.raw24);
const portrait = await sharp('models/build/astronaut.png').removeAlpha().raw().toBuffer({ resolveWithObject: true });
const reference = (await detectFaces(new Uint8Array(portrait.data), portrait.info.width, portrait.info.height))[0]!.descriptor;

const server = await startServerProcess(['--capacity', '4']);
const pid = server.child.pid!;
await sleep(5000);
const idleBefore = procFigures(pid);
const browser = await launchBrowser();
const s = await createSession(server.base, server.key);
const page = await openViewer(browser, s.urls.view);
const ingest = await JsonSocket.open(`${s.urls.ingest}&encoding=pcm16&sampleRate=24000`);
await ingest.next((m) => m.type === 'ready');

// Talking with pauses, until told to stop: a whole turn, its end, a pause.
let talking = true;
let turns = 0;
let interruptedTurns = 0;
const talker = (async () => {
  while (talking) {
    const from = ingest.messages.length;
    ingest.send({ type: 'text', text: `${FIRST_SENTENCE} ${SECOND_SENTENCE}` });
    ingest.send(pcm24);
    ingest.send({ type: 'end_of_turn' });
    const done = await ingest.next((m) => m.type === 'playback_finished' && ingest.messages.indexOf(m) >= from, 60_000);
    turns++;
    if (done.interrupted) interruptedTurns++;
    await sleep(pauseS * 1000);
  }
})();

const t0 = Date.now();
const samples: (ProcFigures & { minute: number; lateFrames: number })[] = [];
const sample = async () => {
  const d = await sessionDetails<{ lateFrames: number }>(server.base, server.key, s.sessionId);
  samples.push({ minute: round((Date.now() - t0) / 60_000, 2), lateFrames: d.lateFrames, ...procFigures(pid) });
};
await sleep(warmupS * 1000);
await sample();
const start = { avOffset: await avOffset(page, server.base, server.key, s.sessionId), identity: await identity(page, reference), ...samples[0]! };
console.error(`[soak] start: ${JSON.stringify(start)}`);
const endAt = t0 + minutes * 60_000;
while (Date.now() < endAt - 20_000) {
  await sleep(Math.min(30_000, Math.max(0, endAt - 20_000 - Date.now())));
  await sample();
  const last = samples[samples.length - 1]!;
  console.error(`[soak] ${last.minute} min: rss ${last.rssMb} MB, fds ${last.fds}, threads ${last.threads}, late ${last.lateFrames}, turns ${turns}`);
}
const end = { avOffset: await avOffset(page, server.base, server.key, s.sessionId), identity: await identity(page, reference), ...samples[samples.length - 1]! };
talking = false;
await talker.catch(() => undefined);
const details = await sessionDetails<{ mediaTimeMs: number; lateFrames: number }>(server.base, server.key, s.sessionId);
await page.close();
ingest.close();
await endSession(server.base, server.key, s.sessionId);
await sleep(5000);
const idleAfter = procFigures(pid);
await browser.close();
await server.stop();

const rssGrowthPct = round((100 * (end.rssMb - start.rssMb)) / start.rssMb, 2);
const result = {
  command: `node --import tsx bench/soak.ts --minutes ${minutes} --warmup-s ${warmupS} --pause-s ${pauseS}`,
  machine: machine(),
  date: new Date().toISOString(),
  minutes,
  turns,
  interruptedTurns,
  mediaTimeS: round(details.mediaTimeMs / 1000),
  lateFrames: details.lateFrames,
  lateFramesPct: round((100 * details.lateFrames) / (details.mediaTimeMs / 40), 3),
  start,
  end,
  rssGrowthPct,
  avOffsetChangeMs: round(end.avOffset.medianMs - start.avOffset.medianMs),
  identityChange: round(percentile(end.identity, 0.5) - percentile(start.identity, 0.5), 3),
  idleBefore,
  idleAfter,
  backToBaseline: { fds: idleAfter.fds - idleBefore.fds, threads: idleAfter.threads - idleBefore.threads, children: idleAfter.children - idleBefore.children },
  samples,
};
writeFileSync(values.out!, JSON.stringify(result, null, 2) + '\n');
process.stdout.write(`${JSON.stringify({ ...result, samples: `${samples.length} samples` }, null, 2)}\n`);
