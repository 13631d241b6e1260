// Glass-to-glass latency in Chromium: from an audio onset in the fake microphone (as the page
// itself hears its microphone) to the first received frame with the mouth opening.
// Usage: node --import tsx bench/latency.ts [--bursts 12] [--out bench/results/latency.json]
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { launchBrowser } from '../test/support/browser.ts';
import { mouthBox, sessionDetails } from '../test/support/server.ts';
import { startServerProcess } from '../test/support/server-process.ts';
import { waitLive } from '../test/support/page-api.ts';
import { mouthOpening, percentile } from '../test/support/signal-analysis.ts';
import { machine } from './machine.ts';

const { values } = parseArgs({ options: { bursts: { type: 'string', default: '12' }, 'output-delay-ms': { type: 'string', default: '100' }, out: { type: 'string', default: 'bench/results/latency.json' } } });
const outputDelayMs = Number(values['output-delay-ms']);
const bursts = Number(values.bursts);
const GAP_S = 1.6;
const BURST_S = 0.45;

// A voice-like burst train: a 140 Hz buzz through a vowel-ish band, 1.6 s apart.
const dir = join(tmpdir(), 'facecast-bench');
mkdirSync(dir, { recursive: true });
const wav = join(dir, `bursts-${bursts}.wav`);
const one = join(dir, 'burst.wav');
const gap = join(dir, 'gap.wav');
const fmt = ['-r', '48000', '-c', '1', '-b', '16', '-e', 'signed-integer'];
execFileSync('sox', ['-n', ...fmt, one, 'synth', String(BURST_S), 'sawtooth', '140', 'bandpass', '800', '600', 'fade', '0.005', String(BURST_S), '0.05', 'gain', '-3']);
execFileSync('sox', ['-n', ...fmt, gap, 'trim', '0', String(GAP_S - BURST_S)]);
execFileSync('sox', [join(dir, 'gap.wav'), join(dir, 'gap.wav'), ...Array.from({ length: bursts }, () => [one, gap]).flat(), wav]);
const totalMs = ((GAP_S - BURST_S) * 2 + bursts * GAP_S) * 1000;

const server = await startServerProcess(['--output-delay-ms', String(outputDelayMs)]);
const browser = await launchBrowser({ micWav: wav });
try {
  const page = await browser.context.newPage();
  await page.goto(`${server.base}/?key=${encodeURIComponent(server.key)}`);
  await page.evaluate(() => window.facecast.start());
  await waitLive(page);
  const box = await mouthBox(server.base);
  const rec = await page.evaluate(
    async ({ box, ms }) => {
      const [frames, mic] = await Promise.all([window.facecast.captureFrames({ fps: 25, durationMs: ms, region: box }), window.facecast.captureAudio(ms, 'microphone')]);
      return { frames, mic };
    },
    { box, ms: totalMs },
  );

  // Onsets in the microphone: above 20% of the peak after >= 500 ms below 5%.
  const env = rec.mic.envelope;
  const peak = percentile(env, 0.99);
  const onsets: number[] = [];
  let quiet = 0;
  env.forEach((e, i) => {
    if (e > 0.2 * peak && quiet >= 50) onsets.push(rec.mic.times[i]);
    quiet = e < 0.05 * peak ? quiet + 1 : 0;
  });
  const ft = rec.frames.t;
  const rest = ft.map((t, i) => ({ t, i })).filter(({ t }) => onsets.every((o) => t < o + 0 || t > o + BURST_S * 1000 + 600)).map(({ i }) => i);
  const activity = mouthOpening(rec.frames.gray, rest);
  const latencies: number[] = [];
  for (const o of onsets) {
    const win = ft.map((t, i) => ({ t, a: activity[i] })).filter(({ t }) => t >= o - 200 && t <= o + 1_000);
    const top = Math.max(...win.map((w) => w.a));
    const base = percentile(rest.map((i) => activity[i]), 0.95);
    if (!(top > base * 2 + 1)) continue; // no visible opening for this burst
    const first = win.find(({ a }) => a > base + 0.3 * (top - base));
    if (first) latencies.push(first.t - o);
  }
  const sessionId = await page.evaluate(() => (window as unknown as { facecast: { sessionId: string } }).facecast.sessionId);
  const info = await sessionDetails(server.base, server.key, sessionId);
  const n = env.length - 1;
  const audioClockDriftMs = rec.mic.times[n] - (rec.mic.t0 + n * 10);
  const result = {
    command: `node --import tsx bench/latency.ts --bursts ${bursts} --output-delay-ms ${outputDelayMs}`,
    machine: machine(),
    date: new Date().toISOString(),
    outputDelayMs,
    onsets: onsets.length,
    measured: latencies.length,
    latencyMs: { p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95), min: Math.min(...latencies), max: Math.max(...latencies) },
    samplesMs: latencies.map((l) => Math.round(l)),
    server: { lateFrames: info.lateFrames, scheduler: info.scheduler, pacer: info.pacer, mic: info.mic, recentLateFrames: info.recentLateFrames },
    audioClockDriftMs,
    note: 'onset = microphone sample reaching the page audio graph; frame time = requestVideoFrameCallback presentation in the same page',
  };
  writeFileSync(values.out!, JSON.stringify(result, null, 2) + '\n');
  console.log(JSON.stringify(result, null, 2));
} finally {
  await browser.close();
  await server.stop();
}
