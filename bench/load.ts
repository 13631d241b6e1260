// The load bench: N talking sessions on one server, as users load it. Each session gets continuous English speech
// over the TTS ingest, a whole turn at a time (as TTS services send it: all of a turn's audio at once, then
// end_of_turn), a new turn every --turn-s seconds on every session at the same moment, so that turns queue back to
// back and the arrivals stack up. Avatars: the built-in one for all (--avatars same) or one each (--avatars
// different: the quality bench's portraits and their mirror images). No viewers: the encode runs anyway.
// Measures, over --seconds after --warmup: per session the frames repeated because not ready (late), the pacer's
// tick lateness (p50/p99/max from its counts), the server's process tree CPU (node threads, ffmpeg, mediasoup) per
// session, the main thread's event-loop delay, and the capacity the server states; then, with --probe-capacity,
// asks for one session more than the server says it can serve and records the answer.
// Usage: node --import tsx bench/load.ts --sessions 6 [--avatars same|different] [--seconds 60] [--warmup 10]
//        [--turn-s 17] [--stagger-ms 0] [--server-args="--capacity 16"] [--probe-capacity] [--out FILE]
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { makeSpeechFixture } from '../test/support/audio-fixtures.ts';
import { createSession, endSession, sessionDetails } from '../test/support/server.ts';
import { startServerProcess } from '../test/support/server-process.ts';
import { diff, threadCpu, treeCpu } from '../test/support/proc-cpu.ts';
import { JsonSocket } from '../test/support/ws-client.ts';
import { histogramBetween, parsePrometheus } from '../test/support/prometheus.ts';
import { PORTRAIT_NAMES, loadPortrait } from './quality/portraits.ts';
import { machine } from './machine.ts';

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '6' },
    avatars: { type: 'string', default: 'same' },
    seconds: { type: 'string', default: '60' },
    warmup: { type: 'string', default: '10' },
    'turn-s': { type: 'string', default: '17' },
    'stagger-ms': { type: 'string', default: '0' },
    'server-args': { type: 'string', default: '' },
    'probe-capacity': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const N = Number(values.sessions);
const windowS = Number(values.seconds);
const warmupS = Number(values.warmup);
const turnS = Number(values['turn-s']);
const staggerMs = Number(values['stagger-ms']);
if (!(N >= 1 && N <= 32)) throw new Error('--sessions must be 1..32');
if (!(windowS >= 5 && windowS <= 3_600) || !(warmupS >= 0 && warmupS <= 600)) throw new Error('--seconds must be 5..3600 and --warmup 0..600');
if (!(turnS >= 2 && turnS <= 120)) throw new Error('--turn-s must be 2..120');
if (values.avatars !== 'same' && values.avatars !== 'different') throw new Error('--avatars must be same or different');
const out = values.out ?? `bench/results/load-${N}-${values.avatars}.json`;
const log = (line: string) => console.error(`[load] ${line}`);

// Continuous speech: the two fixture sentences with short pauses, looped to one turn's length (24 kHz PCM16).
const fixture = makeSpeechFixture(join(tmpdir(), 'facecast-fixtures'), { leadS: 0.1, gapS: 0.4, tailS: 0.4 });
const loop = readFileSync(fixture.raw24);
const turn = Buffer.alloc(Math.round(turnS * 24_000) * 2);
for (let off = 0; off < turn.length; off += loop.length) loop.copy(turn, off, 0, Math.min(loop.length, turn.length - off));
/** The ingest's message limit is 1 MiB: longer turns go as several messages back to back. */
const MESSAGE_BYTES = 1 << 20;

const server = await startServerProcess(values['server-args'].split(/\s+/).filter(Boolean));
const { base, key } = server;
const auth = { authorization: `Bearer ${key}` };

/** Avatar ids, one per session: the built-in, or portraits (and mirror images) enrolled over the API. */
async function avatarIds(): Promise<string[]> {
  if (values.avatars === 'same') return Array.from({ length: N }, () => 'astronaut');
  const ids: string[] = [];
  for (let i = 0; i < N; i++) {
    const p = await loadPortrait(PORTRAIT_NAMES[i % PORTRAIT_NAMES.length]!);
    let img = sharp(p.image);
    if (Math.floor(i / PORTRAIT_NAMES.length) % 2 === 1) img = img.flop();
    if (i >= 2 * PORTRAIT_NAMES.length) img = img.extend({ top: 24, bottom: 24, left: 24, right: 24, background: '#7f7f7f' });
    const body = new Uint8Array(await img.png().toBuffer());
    const res = await fetch(`${base}/api/avatars?wait=1&name=load-${i}`, { method: 'POST', headers: { ...auth, 'content-type': 'image/png' }, body });
    if (res.status !== 201) throw new Error(`enrol portrait ${i}: ${res.status} ${await res.text()}`);
    ids.push(((await res.json()) as { id: string }).id);
    log(`enrolled avatar ${i + 1}/${N}`);
  }
  return ids;
}

interface Driven {
  id: string;
  ingest: JsonSocket;
  turnsSent: number;
  errors: string[];
}

interface Details {
  lateFrames: number;
  pacer: { ticks: number; lateCounts: number[]; maxLateUs: number; stalls: { tickMs: number; lateMs: number }[] };
  render: { cpuS: number | null } | null;
}
const LATE_BOUNDS_MS = [1, 2, 5, 10, 20, 40, 80, 160, 320, Infinity];

const ids = await avatarIds();
const driven: Driven[] = [];
const stop = { stop: false };
const drivers: Promise<void>[] = [];
try {
  for (const avatar of ids) {
    const s = await createSession(base, key, { avatar });
    const ingest = await JsonSocket.open(`${s.urls.ingest}&encoding=pcm16&sampleRate=24000`);
    await ingest.next((m) => m.type === 'ready');
    const d: Driven = { id: s.sessionId, ingest, turnsSent: 0, errors: [] };
    ingest.ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const m = JSON.parse(data.toString()) as { type: string; message?: string };
      if (m.type === 'error' && d.errors.length < 20) d.errors.push(m.message ?? '?');
    });
    driven.push(d);
  }
  log(`${N} sessions up (avatars: ${values.avatars})`);

  // Every session gets a whole turn at the same moment (or staggered), every turnS seconds.
  const t0 = Date.now() + 500;
  for (const [i, d] of driven.entries()) {
    drivers.push(
      (async () => {
        for (let k = 0; !stop.stop; k++) {
          await sleep(Math.max(0, t0 + i * staggerMs + k * turnS * 1000 - Date.now()));
          if (stop.stop) break;
          for (let off = 0; off < turn.length; off += MESSAGE_BYTES) d.ingest.send(turn.subarray(off, off + MESSAGE_BYTES));
          d.ingest.send({ type: 'end_of_turn' });
          d.turnsSent++;
        }
      })(),
    );
  }
  await sleep(warmupS * 1000);

  const snap = async () => ({
    at: performance.now(),
    client: process.cpuUsage(),
    cpu: treeCpu(server.child.pid!),
    threads: threadCpu(server.child.pid!),
    details: await Promise.all(driven.map((d) => sessionDetails<Details>(base, key, d.id))),
    health: (await (await fetch(`${base}/api/health`)).json()) as Record<string, unknown>,
    metrics: parsePrometheus(await (await fetch(`${base}/metrics`)).text()).samples,
  });
  const a = await snap();
  log(`measuring ${windowS} s...`);
  await sleep(windowS * 1000);
  const b = await snap();
  const seconds = (b.at - a.at) / 1000;

  let probe: Record<string, unknown> | null = null;
  if (values['probe-capacity']) {
    const res = await fetch(`${base}/api/sessions`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{}' });
    probe = { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() };
    const made = (probe.body as { sessionId?: string }).sessionId;
    if (made) await endSession(base, key, made);
    log(`one session more: ${res.status} ${JSON.stringify(probe.body).slice(0, 200)}`);
  }

  const cpu = diff(a.cpu, b.cpu);
  // Per stage, from the server's own histograms over the window: calls, mean and p99 (a bucket bound), and the
  // thread time it took per second of the window (what a stage costs, in cores, where it runs).
  const stages = Object.fromEntries(
    ['ingest', 'audio_analysis', 'director', 'render', 'encode', 'rtp'].map((stage) => {
      const h = histogramBetween(a.metrics, b.metrics, 'facecast_stage_seconds', { stage });
      return [stage, { calls: h.count, meanMs: Number(h.meanMs.toFixed(3)), p99AtMostMs: h.p99AtMostMs, secondsPerSecond: Number((h.totalS / seconds).toFixed(3)) }];
    }),
  );
  const ticks = histogramBetween(a.metrics, b.metrics, 'facecast_pacer_tick_lateness_seconds');
  const totalCpu = Object.values(cpu).reduce((x, y) => x + y, 0);
  const perSession = driven.map((d, i) => {
    const da = a.details[i]!;
    const db = b.details[i]!;
    const counts = db.pacer.lateCounts.map((c, k) => c - (da.pacer.lateCounts[k] ?? 0));
    const ticks = counts.reduce((x, y) => x + y, 0);
    const quantile = (q: number) => {
      let acc = 0;
      for (let k = 0; k < counts.length; k++) if ((acc += counts[k]!) >= q * ticks) return LATE_BOUNDS_MS[k]!;
      return Infinity;
    };
    const frames = Math.round(seconds * 25);
    const late = db.lateFrames - da.lateFrames;
    return {
      session: d.id.slice(0, 8),
      lateFrames: late,
      frames,
      latePct: Number(((100 * late) / frames).toFixed(2)),
      tickLateMs: { p50AtMost: quantile(0.5), p99AtMost: quantile(0.99), over10: counts.slice(4).reduce((x, y) => x + y, 0), over40: counts.slice(6).reduce((x, y) => x + y, 0), maxSinceStart: db.pacer.maxLateUs / 1000 },
      stalls: db.pacer.stalls.filter((x) => !da.pacer.stalls.some((y) => y.tickMs === x.tickMs)),
      turnsSent: d.turnsSent,
      errors: d.errors,
    };
  });
  const result = {
    command: `node --import tsx bench/load.ts ${process.argv.slice(2).join(' ')}`.trim(),
    machine: machine(),
    date: new Date().toISOString(),
    sessions: N,
    avatars: values.avatars,
    turnS,
    windowS: Number(seconds.toFixed(1)),
    note: 'late: frames repeated because not ready; tick lateness from the pacer\'s counts (bucket bounds 1,2,5,10,20,40,80,160,320 ms); CPU: the server process tree over the window, in cores',
    stages,
    ticksAllSessions: { count: ticks.count, meanMs: Number(ticks.meanMs.toFixed(2)), p50AtMostMs: ticks.p50AtMostMs, p99AtMostMs: ticks.p99AtMostMs },
    /** This bench's own process (the TTS clients), on the same cores. */
    clientCpuCores: Number(((b.client.user + b.client.system - a.client.user - a.client.system) / 1e6 / seconds).toFixed(3)),
    cpuCores: { total: Number((totalCpu / seconds).toFixed(3)), perSession: Number((totalCpu / seconds / N).toFixed(3)), byProcess: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, Number((v / seconds).toFixed(3))])) },
    nodeThreadsCores: Object.fromEntries(Object.entries(diff(a.threads, b.threads)).map(([k, v]) => [k, Number((v / seconds).toFixed(3))])),
    latePct: { max: Math.max(...perSession.map((p) => p.latePct)), mean: Number((perSession.reduce((x, p) => x + p.latePct, 0) / N).toFixed(2)) },
    health: b.health,
    probe,
    perSession,
  };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  console.log(JSON.stringify({ ...result, perSession: perSession.map((p) => ({ s: p.session, latePct: p.latePct, tick: p.tickLateMs, errors: p.errors.length })) }, null, 2));
  log(`recorded in ${out}`);
} finally {
  stop.stop = true;
  for (const d of driven) {
    d.ingest.close();
  }
  await Promise.allSettled(drivers);
  await server.stop();
}
