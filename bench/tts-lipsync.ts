// Where the mouth sits against the audio in a real Chromium viewer, for TTS audio (known ahead), over many runs:
// each run streams a turn 3x faster than real time with its text and measures in the page (test/support/
// tts-lipsync.ts): the lag against a WebAudio tap (the old e2e measure), the lag against the receiver's playout
// level, and, free of any image measure, video shown minus audio played for one media time from RTP timestamps.
// Usage: node --import tsx bench/tts-lipsync.ts [--runs 20] [--out bench/results/tts-lipsync.json]
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FIRST_SENTENCE, SECOND_SENTENCE, makeSpeechFixture } from '../test/support/audio-fixtures.ts';
import { launchBrowser } from '../test/support/browser.ts';
import { startServerProcess } from '../test/support/server-process.ts';
import { runTtsLipSync, type TtsLipSyncRun } from '../test/support/tts-lipsync.ts';
import { percentile } from '../test/support/signal-analysis.ts';
import { machine } from './machine.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' }, out: { type: 'string', default: 'bench/results/tts-lipsync.json' } } });
const runs = Number(values.runs);
if (!(runs >= 1 && runs <= 100)) throw new Error('--runs must be 1..100');

const fixture = makeSpeechFixture(join(tmpdir(), 'facecast-fixtures'), { leadS: 0.3, gapS: 2, tailS: 0.5 });
const pcm24 = readFileSync(fixture.raw24);
const server = await startServerProcess();
const browser = await launchBrowser();
const done: TtsLipSyncRun[] = [];
try {
  for (let i = 0; i < runs; i++) {
    const r = await runTtsLipSync(browser, server, pcm24, `${FIRST_SENTENCE} ${SECOND_SENTENCE}`);
    done.push(r);
    console.error(`run ${i + 1}/${runs}: ${r.report}`);
  }
} finally {
  await browser.close();
  await server.stop();
}

const stat = (xs: number[]) => {
  const v = xs.filter(Number.isFinite);
  const r = (x: number) => Number(x.toFixed(1));
  return { p50: r(percentile(v, 0.5)), p5: r(percentile(v, 0.05)), p95: r(percentile(v, 0.95)), min: r(Math.min(...v)), max: r(Math.max(...v)), n: v.length };
};
const histogram = (xs: number[], step: number) => {
  const h: Record<string, number> = {};
  for (const x of xs) {
    const k = String(Math.round(x / step) * step);
    h[k] = (h[k] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(h).sort((a, b) => Number(a[0]) - Number(b[0])));
};
const result = {
  command: `node --import tsx bench/tts-lipsync.ts --runs ${runs}`,
  machine: machine(),
  date: new Date().toISOString(),
  runs,
  note:
    'ms, positive = the mouth after the sound. tapLag: best-lag of mouth opening vs a WebAudio tap on the received track (the old e2e measure). ' +
    'playoutLag: the same against the level of the packets the receiver played out (RFC 6464), at the time it delivered them. ' +
    'rtpOffset: the presented frame\'s media time vs the played packet\'s media time from their RTP timestamps and the sender\'s offsets (no image measure; median per run). tapR, playoutR: Pearson r x 100 at the best lag.',
  tapLagMs: { ...stat(done.map((r) => r.tap.lagMs)), histogram: histogram(done.map((r) => r.tap.lagMs), 10) },
  playoutLagMs: { ...stat(done.map((r) => r.playout.lagMs)), histogram: histogram(done.map((r) => r.playout.lagMs), 10) },
  rtpOffsetMs: { ...stat(done.map((r) => r.rtpOffsetMs)), histogram: histogram(done.map((r) => r.rtpOffsetMs), 5) },
  tapR: stat(done.map((r) => r.tap.r * 100)),
  playoutR: stat(done.map((r) => r.playout.r * 100)),
  samples: done.map((r) => ({
    tapLag: r.tap.lagMs,
    tapR: Number(r.tap.r.toFixed(3)),
    playoutLag: r.playout.lagMs,
    playoutR: Number(r.playout.r.toFixed(3)),
    rtpOffset: Number(r.rtpOffsetMs.toFixed(1)),
    rtpOffsetP10: Number(r.rtpOffsetP10Ms.toFixed(1)),
    rtpOffsetP90: Number(r.rtpOffsetP90Ms.toFixed(1)),
    fps: Number(r.tap.fps.toFixed(1)),
  })),
};
writeFileSync(values.out!, JSON.stringify(result, null, 2) + '\n');
console.log(JSON.stringify({ ...result, samples: undefined }, null, 2));
