// Barge-in in Chromium: a TTS turn streamed 3x faster than real time, interrupted mid-word, many times over; how
// long after the interrupt the page's audio (at the receiver's playout) and mouth (in the presented frames) stop.
// Usage: node --import tsx bench/interrupt.ts [--runs 15] [--out bench/results/interrupt.json]
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeSpeechFixture } from '../test/support/audio-fixtures.ts';
import { launchBrowser } from '../test/support/browser.ts';
import { startServerProcess } from '../test/support/server-process.ts';
import { runInterrupt, type InterruptRun } from '../test/support/interrupt.ts';
import { percentile } from '../test/support/signal-analysis.ts';
import { machine } from './machine.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' }, out: { type: 'string', default: 'bench/results/interrupt.json' } } });
const runs = Number(values.runs);
if (!(runs >= 1 && runs <= 100)) throw new Error('--runs must be 1..100');

const fixture = makeSpeechFixture(join(tmpdir(), 'facecast-fixtures'), { leadS: 0.3, gapS: 2, tailS: 0.5 });
const pcm24 = readFileSync(fixture.raw24);
const server = await startServerProcess();
const browser = await launchBrowser();
const done: InterruptRun[] = [];
try {
  for (let i = 0; i < runs; i++) {
    const r = await runInterrupt(browser, server, pcm24);
    done.push(r);
    console.error(`run ${i + 1}/${runs}: audio ${r.playoutStopMs.toFixed(0)} ms, mouth ${r.mouthStopMs.toFixed(0)} ms, server cut ${r.server.audioCutMs?.toFixed(0)} / ${r.server.mouthCutMs?.toFixed(0)} ms`);
    if (r.mouthStopMs > 80 || r.playoutStopMs > 80) for (const line of r.report) console.error(`  ${line}`);
  }
} finally {
  await browser.close();
  await server.stop();
}

const valid = done.filter((r) => r.interrupted && r.playedLoudBefore && r.mouthOpenBefore);
const stat = (xs: number[]) => ({ p50: Math.round(percentile(xs, 0.5)), p95: Math.round(percentile(xs, 0.95)), min: Math.round(Math.min(...xs)), max: Math.round(Math.max(...xs)) });
const within = (xs: number[], ms: number) => xs.filter((x) => x <= ms).length;
const audio = valid.map((r) => r.playoutStopMs);
const mouth = valid.map((r) => r.mouthStopMs);
const result = {
  command: `node --import tsx bench/interrupt.ts --runs ${runs}`,
  machine: machine(),
  date: new Date().toISOString(),
  runs,
  measured: valid.length,
  note: 'ms from the interrupt (sent by a ws client on the same machine) to: the last loud audio the page\'s receiver played out (RFC 6464 level of its source); the first presented frame (requestVideoFrameCallback, ~25 fps) from which the mouth stays shut; the server\'s own figures for when silence and a closed-mouth frame left it',
  audioPlayoutStopMs: { ...stat(audio), within80: within(audio, 80) },
  mouthStopMs: { ...stat(mouth), within80: within(mouth, 80) },
  webAudioTapStopMs: stat(valid.map((r) => r.tapStopMs)),
  serverAudioCutMs: stat(valid.map((r) => r.server.audioCutMs ?? NaN)),
  serverMouthCutMs: stat(valid.map((r) => r.server.mouthCutMs ?? NaN)),
  pageAudioJitterBufferMs: stat(valid.map((r) => r.page.audioBufferMs ?? NaN)),
  samples: valid.map((r) => ({ audio: Math.round(r.playoutStopMs), mouth: Math.round(r.mouthStopMs), tap: Math.round(r.tapStopMs), serverAudio: r.server.audioCutMs, serverMouth: r.server.mouthCutMs, cutFrames: r.server.cutFrames, graceFrames: r.server.graceFrames })),
};
writeFileSync(values.out!, JSON.stringify(result, null, 2) + '\n');
console.log(JSON.stringify({ ...result, samples: undefined }, null, 2));
