// The default pack's render and enrollment times, each also as a ratio to a plain onnxruntime GridSample
// 1x3x512x512 graph timed in the same run (so that runs on different or busy machines compare).
// Usage: node --import tsx bench/render.ts [--frames 200] [--enrollments 3] [--out bench/results/render.json]
import { readFile } from 'node:fs/promises';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { ElemType, OnnxGraphBuilder } from '../src/packs/default/onnx-builder.ts';
import {
  COEFFICIENT_NAMES,
  DefaultRenderer,
  builtinPortraitPath,
  coefficientVector,
  detectFaces,
  enrollPortrait,
  neutralCoefficients,
} from '../src/packs/default/index.ts';
import { machine } from './machine.ts';

const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: '200' },
    enrollments: { type: 'string', default: '3' },
    out: { type: 'string', default: 'bench/results/render.json' },
  },
});
const frames = Number(values.frames);
const enrollments = Number(values.enrollments);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p90 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)]!;
const round = (x: number, d = 2): number => Number(x.toFixed(d));

async function timeAsync(n: number, warm: number, f: (i: number) => Promise<unknown>): Promise<{ medianMs: number; p90Ms: number; cpuMsPerCall: number }> {
  for (let i = 0; i < warm; i++) await f(i);
  const ts: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await f(i);
    ts.push(performance.now() - t0);
  }
  const cpu = process.cpuUsage(cpu0);
  return { medianMs: round(median(ts)), p90Ms: round(p90(ts)), cpuMsPerCall: round((cpu.user + cpu.system) / 1000 / n) };
}

/** The yardstick: GridSample of a 3x512x512 image with a fed 512x512 grid, the render graph's sampling mode. */
async function gridSampleSession(): Promise<{ run: () => Promise<unknown>; release: () => Promise<void> }> {
  const g = new OnnxGraphBuilder();
  const image = new Float32Array(3 * 512 * 512).map((_, i) => (i * 7919) % 256);
  const input = g.float('image', image, [1, 3, 512, 512]);
  g.op('GridSample', [input, 'grid'], { mode: 'bilinear', padding_mode: 'zeros', align_corners: { int: 0 } }, 'out');
  const model = g.build('gridsample_yardstick', [{ name: 'grid', elemType: ElemType.FLOAT, dims: [1, 512, 512, 2] }], [{ name: 'out', elemType: ElemType.FLOAT, dims: [1, 3, 512, 512] }], { opset: 17 });
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
  // A smooth, non-trivial grid (a slight swirl), like a warp's.
  const grid = new Float32Array(512 * 512 * 2);
  for (let y = 0; y < 512; y++) {
    for (let x = 0; x < 512; x++) {
      grid[2 * (y * 512 + x)] = (2 * x + 1) / 512 - 1 + 0.01 * Math.sin(y / 40);
      grid[2 * (y * 512 + x) + 1] = (2 * y + 1) / 512 - 1 + 0.01 * Math.cos(x / 40);
    }
  }
  const feeds = { grid: new ort.Tensor('float32', grid, [1, 512, 512, 2]) };
  return { run: () => session.run(feeds), release: () => session.release() };
}

const portrait = await readFile(builtinPortraitPath());
const yardstick = await gridSampleSession();
const gridSample = await timeAsync(frames, 10, () => yardstick.run());

// Enrollment without the cache; the face models load once, before (reported apart).
const t0 = performance.now();
await detectFaces(new Uint8Array(64 * 64 * 3), 64, 64);
const modelLoadMs = round(performance.now() - t0, 0);
const enrollment = await timeAsync(enrollments, 0, () => enrollPortrait(portrait, { cacheDir: false }));

const avatar = await enrollPortrait(portrait, { cacheDir: false });
const t1 = performance.now();
const renderer = await DefaultRenderer.create(avatar);
const createMs = round(performance.now() - t1, 0);
const neutral = neutralCoefficients();
const atRest = coefficientVector({ breathe: 1e-4 });
const busy = coefficientVector({ jawOpen: 0.5, lipSpread: 0.2, smile: 0.4, blinkLeft: 0.3, browRaise: 0.2, headYaw: 0.5, headPitch: -0.3, headRoll: 0.2, neckSway: 0.4, breathe: 0.6 });
const jaw = COEFFICIENT_NAMES.indexOf('jawOpen');
const result = {
  command: `node --import tsx bench/render.ts --frames ${frames} --enrollments ${enrollments}`,
  machine: machine(),
  date: new Date().toISOString(),
  threads: 1,
  frame: { width: renderer.width, height: renderer.height, renderBox: renderer.renderBox },
  gridSample1x3x512x512: gridSample,
  render: {
    neutral: await timeAsync(frames, 10, () => renderer.render(neutral)),
    graphAtRest: await timeAsync(frames, 10, () => renderer.render(atRest)),
    busyMix: await timeAsync(frames, 10, (i) => {
      busy[jaw] = (i % 10) / 10; // the mouth moves every frame, as it does while speaking
      return renderer.render(busy);
    }),
  },
  enrollment: { ...enrollment, runs: enrollments, modelLoadMs, rendererCreateMs: createMs },
  ratiosToGridSample: {} as Record<string, number>,
};
await renderer.close();
await yardstick.release();
result.ratiosToGridSample = {
  renderNeutral: round(result.render.neutral.medianMs / gridSample.medianMs, 3),
  renderGraphAtRest: round(result.render.graphAtRest.medianMs / gridSample.medianMs, 3),
  renderBusyMix: round(result.render.busyMix.medianMs / gridSample.medianMs, 3),
  enrollment: round(enrollment.medianMs / gridSample.medianMs, 1),
};
writeFileSync(values.out!, JSON.stringify(result, null, 2) + '\n');
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
