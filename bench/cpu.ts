// Server CPU per session against ffmpeg's bare VP8 encode of the same frames.
// Runs the real server (child process), one session driven in real time over the TTS ingest
// with one Chromium viewer, and measures the server's process tree (node + ffmpeg +
// mediasoup-worker) over a window, minus the idle server over the same length. Then renders
// the same audio offline to raw frames and times ffmpeg encoding them with the session's VP8
// settings, paced at 25 fps (-re). Usage: node --import tsx bench/cpu.ts [--seconds 20]
import { spawn } from 'node:child_process';
import { startServerProcess } from '../test/support/server-process.ts';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeSpeechFixture } from '../test/support/audio-fixtures.ts';
import { launchBrowser } from '../test/support/browser.ts';
import { createSession, sessionDetails } from '../test/support/server.ts';
import { waitLive } from '../test/support/page-api.ts';
import { JsonSocket } from '../test/support/ws-client.ts';
import { renderOffline } from '../src/cascade/offline.ts';
import { createDefaultStages } from '../src/packs/default/cascade-stages.ts';
import { DefaultRenderer, enrollPortrait } from '../src/packs/default/index.ts';
import { ffmpegVp8Args, normalizeVp8EncoderOptions } from '../src/media/vp8-encoder.ts';
import { readFile } from 'node:fs/promises';
import { diff, total, treeCpu } from '../test/support/proc-cpu.ts';
import { machine } from './machine.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '20' }, out: { type: 'string', default: 'bench/results/cpu.json' } } });
const windowS = Number(values.seconds);
const dir = join(tmpdir(), 'facecast-bench');
mkdirSync(dir, { recursive: true });
// Continuous speech (the load bench's): short pauses only, as a talking avatar speaks.
const fixture = makeSpeechFixture(dir, { leadS: 0.1, gapS: 0.4, tailS: 0.4 });

// 1. The server, as a user runs it.
const server = await startServerProcess();
const { child, base, key } = server;
const browser = await launchBrowser();
const result: Record<string, unknown> = { command: `node --import tsx bench/cpu.ts --seconds ${windowS}`, machine: machine(), date: new Date().toISOString(), windowS };
try {
  await sleep(3_000);
  const idle0 = treeCpu(child.pid!);
  await sleep(windowS * 1000);
  const idle = diff(idle0, treeCpu(child.pid!));

  const s = await createSession(base, key);
  const page = await browser.context.newPage();
  await page.goto(s.urls.view);
  await waitLive(page);
  const ingest = await JsonSocket.open(`${s.urls.ingest}&encoding=pcm16&sampleRate=48000`);
  const pcm = await readFile(fixture.raw48);
  const stop = { stop: false };
  // Real-time speech, looped, in 100 ms pieces.
  const feeding = (async () => {
    const piece = 9_600;
    const t0 = Date.now();
    for (let k = 0; !stop.stop; k++) {
      const off = (k * piece) % (pcm.length - piece);
      ingest.send(pcm.subarray(off, off + piece));
      await sleep(Math.max(0, t0 + (k + 1) * 100 - Date.now()));
    }
  })();
  const sessionInfo = () => sessionDetails(base, key, s.sessionId);
  const renderCpuS = (i: Record<string, unknown>): number => Number((i.render as { cpuS?: number } | null)?.cpuS ?? NaN);
  await sleep(3_000);
  const render0 = renderCpuS(await sessionInfo());
  const busy0 = treeCpu(child.pid!);
  await sleep(windowS * 1000);
  const busy = diff(busy0, treeCpu(child.pid!));
  const info = await sessionInfo();
  stop.stop = true;
  await feeding;
  // The render worker thread's own CPU over the window (it reports /proc/thread-self/schedstat with each frame).
  const renderS = renderCpuS(info) - render0;
  ingest.close();
  await page.close();

  // 2. The same frames, encoded bare by ffmpeg with the session's VP8 settings.
  const raw = join(dir, 'frames.i420');
  const avatar = await enrollPortrait(await readFile('models/build/astronaut.png'));
  const renderer = await DefaultRenderer.create(avatar);
  const frames = createWriteStream(raw);
  const audio = new Int16Array(Math.ceil(windowS * 48_000));
  const src = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length >> 1);
  for (let i = 0; i < audio.length; i++) audio[i] = src[i % src.length];
  const { frames: n } = await renderOffline({ stages: createDefaultStages(renderer), audio, onFrame: (f) => void frames.write(f.i420) });
  await new Promise((r) => frames.end(r));
  await renderer.close();
  const opts = normalizeVp8EncoderOptions({ width: 512, height: 512, bitrateKbps: 800, keyframeIntervalFrames: 25 });
  // Same encoder settings; the input is the file, the output is discarded, the log shows -benchmark.
  const args = ffmpegVp8Args(opts).map((a) => (a === 'pipe:0' ? raw : a === 'pipe:1' ? '-' : a === 'warning' ? 'info' : a));
  const inputAt = args.indexOf('-i');
  args.splice(inputAt, 0, '-re');
  const ivfAt = args.lastIndexOf('ivf');
  if (ivfAt > 0) args[ivfAt] = 'null';
  const bench = await new Promise<string>((resolve) => {
    const ff = spawn('ffmpeg', ['-benchmark', ...args.filter((a) => a !== '-nostats')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    ff.stderr.on('data', (d: Buffer) => (err += d.toString()));
    ff.on('close', () => resolve(err));
  });
  const m = /bench: utime=([\d.]+)s stime=([\d.]+)s rtime=([\d.]+)s/.exec(bench);
  if (!m) throw new Error(`no ffmpeg -benchmark line:\n${bench.slice(-800)}`);
  const bareCpuS = Number(m[1]) + Number(m[2]);
  const bareCoreFraction = bareCpuS / Number(m[3]);
  const sessionCpuS = total(busy) - total(idle);
  const sessionCoreFraction = sessionCpuS / windowS;
  Object.assign(result, {
    idleServerCpuS: idle,
    busyServerCpuS: busy,
    session: { cpuS: sessionCpuS, cores: sessionCoreFraction, scheduler: info.scheduler, lateFrames: info.lateFrames },
    // The "render + encode": the render thread and the session's ffmpeg, without mediasoup, Opus, director.
    renderPlusEncode: { renderCpuS: renderS, ffmpegCpuS: busy.ffmpeg ?? NaN, cores: (renderS + (busy.ffmpeg ?? NaN)) / windowS },
    bareEncode: { frames: n, cpuS: bareCpuS, rtimeS: Number(m[3]), cores: bareCoreFraction, args: ['ffmpeg', '-benchmark', ...args].join(' ') },
    ratioSessionToBareEncode: sessionCoreFraction / bareCoreFraction,
    ratioRenderPlusEncodeToBareEncode: (renderS + (busy.ffmpeg ?? NaN)) / windowS / bareCoreFraction,
  });
  writeFileSync(values.out!, JSON.stringify(result, null, 2) + '\n');
  console.log(JSON.stringify(result, null, 2));
} finally {
  await browser.close();
  await server.stop();
}
