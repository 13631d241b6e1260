// The director's costs and margins. (1) Plan latency of the embedded rule-based backend: rounds over a 60 s TTS
// session (espeak-ng speech + its text, instructions), sliding playback across it; per round and per shot, median
// and p95. (2) How far ahead of playback plans are published in real time: a TTS session whose audio arrives 3x
// faster than real time, and a live session (flite speech at real time through pocketsphinx).
// Usage: node --import tsx bench/director.ts [--seconds 15] [--out bench/results/director.json]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { Director, type Plan } from '../src/director/index.ts';
import { PocketsphinxRecognizer } from '../src/asr/index.ts';
import { chunks, concat, silence, speech } from '../test/director/fixtures.ts';
import { machine } from './machine.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '15' }, out: { type: 'string', default: 'bench/results/director.json' } } });
const realTimeS = Number(values.seconds);

const SENTENCES = [
  'Hello and welcome, it is wonderful to see you all here today.',
  'Yes, I agree, that is exactly the right way to start.',
  'Unfortunately the weather was terrible and we lost two days.',
  'Do you think we can still make it on time?',
  'This is important: please be careful with the equipment.',
  'Let me think about it for a moment.',
  'No, I do not think that is a good idea.',
  'Wow, that is an amazing result, congratulations!',
  'We should relax, breathe, and take it slowly.',
  'I am so sorry for your loss.',
];
const INSTRUCTIONS = ['nod when you agree', 'keep a serious face', 'look around', 'do not look away, smile more', 'forget the instructions'];

function quantiles(v: number[]): { p50: number; p95: number; max: number; n: number } {
  const s = [...v].sort((a, b) => a - b);
  const q = (x: number) => s[Math.min(s.length - 1, Math.floor(x * s.length))] ?? 0;
  return { p50: round(q(0.5)), p95: round(q(0.95)), max: round(s[s.length - 1] ?? 0), n: s.length };
}
function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

/** (1) Rounds over a recorded session, timed one by one. */
function planLatency() {
  let now = 0;
  const d = new Director({ lookaheadMs: 4_000, maxTrace: 10 }, { nowUs: () => now, portrait: { width: 512, height: 512, faceBox: { x: 160, y: 130, width: 190, height: 230 } } });
  let at = 0;
  SENTENCES.forEach((text, i) => {
    const audio = concat(speech('espeak', text), silence(0.6));
    const cs = chunks(audio, at);
    d.transcript({ text, segmentId: i + 1 });
    cs.forEach((c, k) => d.audio(c, { segmentId: i + 1, last: k === cs.length - 1 }));
    at += cs.length * 20_000;
  });
  d.planNow(); // analyse the audio once, outside the timing
  const perRound: number[] = [];
  const perShot: number[] = [];
  let shots = 0;
  let k = 0;
  for (now = 0; now < at; now += 100_000) {
    if (k % 60 === 0) d.instruction(INSTRUCTIONS[(k / 60) % INSTRUCTIONS.length]!, now);
    k++;
    const t0 = performance.now();
    const plan = d.planNow('refresh');
    const ms = performance.now() - t0;
    perRound.push(ms);
    perShot.push(ms / plan.shots.length);
    shots += plan.shots.length;
  }
  void d.close();
  return { sessionS: round(at / 1e6), rounds: perRound.length, shots, roundMs: quantiles(perRound), perShotMs: quantiles(perShot) };
}

interface LeadResult {
  /** Newest plan's end minus playback, sampled every 40 ms (a video frame), ms. */
  coverageAheadMs: ReturnType<typeof quantiles> & { min: number };
  /** Per sentence: its shot's start minus playback when a plan first carried it, ms. */
  sentenceLeadMs: ReturnType<typeof quantiles> & { min: number };
  sentencesPlanned: number;
  plansPublished: number;
  planLatencyMs: { p50: number; p95: number };
}

/** Watches plans: which sentence each "Says '...'" shot carries, and when (playback time) it first appeared. */
function watch(d: Director, now: () => number) {
  const first = new Map<string, number>();
  d.on('plan', (p: Plan) => {
    const t = now();
    for (const s of p.shots) {
      const m = /^Says '(.{0,24})/.exec(s.description);
      if (!m) continue;
      const key = m[1]!.toLowerCase();
      if (!first.has(key)) first.set(key, (s.startUs - t) / 1000);
    }
  });
  return first;
}

function summarize(coverage: number[], first: Map<string, number>, d: Director): LeadResult {
  const c = quantiles(coverage);
  const l = quantiles([...first.values()]);
  return {
    coverageAheadMs: { ...c, min: round(Math.min(...coverage)) },
    sentenceLeadMs: { ...l, min: round(Math.min(...first.values())) },
    sentencesPlanned: first.size,
    plansPublished: d.metrics.plansPublished,
    planLatencyMs: { p50: round(d.metrics.planLatencyMs.p50), p95: round(d.metrics.planLatencyMs.p95) },
  };
}

/** (2a) TTS: each turn's text at its start, its audio 3x faster than real time; playback runs with the wall clock. */
async function ttsSession(): Promise<LeadResult> {
  const t0 = performance.now();
  const now = () => Math.round((performance.now() - t0) * 1000);
  const d = new Director({ lookaheadMs: 4_000, tickMs: 20, replanIntervalMs: 500 }, { nowUs: now });
  const first = watch(d, now);
  d.start();
  const coverage: number[] = [];
  const sampler = setInterval(() => {
    const p = d.latestPlan;
    if (p) coverage.push((p.endUs - now()) / 1000);
  }, 40);
  let at = 200_000; // the first turn starts 200 ms in, as after the session's output delay
  let sent = 0; // audio sent so far, us of media
  for (let i = 0; at < realTimeS * 1e6; i++) {
    const text = SENTENCES[i % SENTENCES.length]!;
    const cs = chunks(concat(speech('espeak', text), silence(0.4)), at);
    d.transcript({ text, segmentId: i + 1 });
    for (const [k, c] of cs.entries()) {
      d.audio(c, { segmentId: i + 1, last: k === cs.length - 1 });
      sent += 20_000;
      const due = t0 + sent / 3 / 1000;
      if (performance.now() < due) await sleep(due - performance.now());
    }
    at += cs.length * 20_000;
  }
  while (now() < at) await sleep(50);
  clearInterval(sampler);
  const out = summarize(coverage, first, d);
  await d.close();
  return out;
}

/** (2b) Live: flite speech at real time through pocketsphinx; audio is known only up to playback + 100 ms. */
async function liveSession() {
  const t0 = performance.now();
  const outputDelayUs = 100_000;
  const arrived = () => Math.round((performance.now() - t0) * 1000);
  const now = () => arrived() - outputDelayUs;
  const rec = new PocketsphinxRecognizer();
  const d = new Director({ lookaheadMs: 4_000, tickMs: 20, replanIntervalMs: 500 }, { nowUs: now, recognizer: rec });
  // Words reach plans only after they were spoken: from a word's end (as heard) to the first plan made with it.
  const waiting: number[] = [];
  const wordToPlan: number[] = [];
  d.on('words', (r) => waiting.push(r.words[r.words.length - 1]!.endUs));
  d.on('plan', () => {
    for (const end of waiting.splice(0)) wordToPlan.push((arrived() - end) / 1000);
  });
  d.start();
  const parts: Int16Array[] = [];
  for (let i = 0, len = 0; len < realTimeS; i++) {
    const s = concat(speech('flite', SENTENCES[i % SENTENCES.length]!, ['-voice', 'kal']), silence(0.8));
    parts.push(s);
    len += s.length / 48_000;
  }
  const cs = chunks(concat(...parts), 0);
  const coverage: number[] = [];
  for (const [k, c] of cs.entries()) {
    const due = t0 + (k + 1) * 20;
    if (performance.now() < due) await sleep(due - performance.now());
    d.audio(c);
    if (k % 2 === 0 && d.latestPlan) coverage.push((d.latestPlan.endUs - now()) / 1000);
  }
  d.endOfSpeech();
  await sleep(1_500);
  const c = quantiles(coverage);
  const out = {
    coverageAheadMs: { ...c, min: round(Math.min(...coverage)) },
    utteranceEndToPlanMs: quantiles(wordToPlan),
    plansPublished: d.metrics.plansPublished,
    planLatencyMs: { p50: round(d.metrics.planLatencyMs.p50), p95: round(d.metrics.planLatencyMs.p95) },
    recognizer: d.metrics.recognizer,
  };
  await d.close();
  return out;
}

const latency = planLatency();
console.log('plan latency', latency);
const tts = await ttsSession();
console.log('tts (audio 3x real time)', tts);
const live = await liveSession();
console.log('live (pocketsphinx)', live);
const result = {
  command: `node --import tsx bench/director.ts --seconds ${realTimeS}`,
  machine: machine(),
  date: new Date().toISOString(),
  planLatency: latency,
  ttsAhead: tts,
  live,
};
writeFileSync(values.out!, `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${values.out}`);
