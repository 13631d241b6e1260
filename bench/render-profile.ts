// Where a frame's render time goes: onnxruntime's own profiler over the default pack's render graphs (the whole
// render box, the same with the head and torso layers at half resolution, and the feature windows over a kept
// base), summed per operator type and per node, per frame.
// The mouth moves every frame and the head is turned, as while talking. One intra-op thread, as live sessions run.
// Usage: node --import tsx bench/render-profile.ts [--frames 100] [--out bench/results/render-profile.json]
import { readFile, rm } from 'node:fs/promises';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { COEFFICIENT_NAMES, builtinPortraitPath, coefficientVector, enrollPortrait } from '../src/packs/default/index.ts';
import { RENDER_BASE_COMPOSITE, RENDER_BASE_UNDER, RENDER_INPUT, RENDER_INPUT_OFFSETS, RENDER_OUTPUT_I420, buildAvatarRenderGraph, windowOffsets, type RenderGraphVariant } from '../src/packs/default/graph.ts';
import { normalizeCoefficients } from '../src/packs/default/coefficients.ts';
import { machine } from './machine.ts';

const { values } = parseArgs({ options: { frames: { type: 'string', default: '100' }, out: { type: 'string', default: 'bench/results/render-profile.json' } } });
const frames = Number(values.frames);
const round = (x: number, d = 2): number => Number(x.toFixed(d));

interface ProfileEvent {
  cat: string;
  name: string;
  dur: number;
  args?: { op_name?: string; output_type_shape?: unknown };
}

const avatar = await enrollPortrait(await readFile(builtinPortraitPath()));
const busy = coefficientVector({ lipSpread: 0.2, smile: 0.4, blinkLeft: 0.3, browRaise: 0.2, headYaw: 0.5, headPitch: -0.3, headRoll: 0.2, neckSway: 0.4, breathe: 0.6 });
const jaw = COEFFICIENT_NAMES.indexOf('jawOpen');

function feedsAt(i: number): Record<string, ort.Tensor> {
  busy[jaw] = (i % 10) / 10;
  const input = normalizeCoefficients(busy);
  return {
    [RENDER_INPUT]: new ort.Tensor('float32', input, [1, input.length]),
    [RENDER_INPUT_OFFSETS]: new ort.Tensor('int64', windowOffsets(avatar.basis, input), [4]),
  };
}

async function profile(variant: RenderGraphVariant) {
  const prefix = join(tmpdir(), `facecast-render-profile-${process.pid}-${variant}`);
  const options = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' } as const;
  // The windows graph renders over a base: the full graph's, as a live stream keeps it.
  const full = await ort.InferenceSession.create(buildAvatarRenderGraph(avatar, 'full'), options);
  const base = await full.run(feedsAt(0), [RENDER_BASE_UNDER, RENDER_BASE_COMPOSITE]);
  const session = await ort.InferenceSession.create(buildAvatarRenderGraph(avatar, variant), { ...options, enableProfiling: true, profileFilePrefix: prefix });
  const extra: Record<string, ort.Tensor> = variant === 'windows' ? { [RENDER_BASE_UNDER]: base[RENDER_BASE_UNDER]!, [RENDER_BASE_COMPOSITE]: base[RENDER_BASE_COMPOSITE]! } : {};
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < frames; i++) await session.run({ ...feedsAt(i), ...extra }, [RENDER_OUTPUT_I420]);
  const wallMs = (performance.now() - t0) / frames;
  const cpu = process.cpuUsage(cpu0);
  // endProfiling() writes the file before it returns, but onnxruntime-node gives no name: found by its prefix.
  session.endProfiling();
  const file = readdirSync(tmpdir()).map((f) => join(tmpdir(), f)).find((f) => f.startsWith(prefix));
  if (!file) throw new Error(`onnxruntime wrote no profile under ${prefix}*`);
  const events = JSON.parse(readFileSync(file, 'utf8')) as ProfileEvent[];
  await rm(file);
  await session.release();
  await full.release();
  const byOp = new Map<string, number>();
  const byNode = new Map<string, { us: number; shape: unknown }>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const op = e.args?.op_name ?? '?';
    byOp.set(op, (byOp.get(op) ?? 0) + e.dur);
    const node = byNode.get(e.name) ?? { us: 0, shape: e.args?.output_type_shape };
    node.us += e.dur;
    byNode.set(e.name, node);
  }
  const kernelMs = [...byOp.values()].reduce((a, b) => a + b, 0) / 1000 / frames;
  return {
    wallMsPerFrame: round(wallMs),
    cpuMsPerFrame: round((cpu.user + cpu.system) / 1000 / frames),
    kernelMsPerFrame: round(kernelMs),
    byOperatorMs: Object.fromEntries([...byOp].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, round(v / 1000 / frames, 3)])),
    topNodes: [...byNode].sort((a, b) => b[1].us - a[1].us).slice(0, 12).map(([name, v]) => ({ node: name.replace(/_kernel_time$/, ''), ms: round(v.us / 1000 / frames, 3), output: v.shape })),
  };
}

const result = {
  command: `node --import tsx bench/render-profile.ts --frames ${frames}`,
  machine: machine(),
  date: new Date().toISOString(),
  renderBox: avatar.basis.renderBox,
  full: await profile('full'),
  half: await profile('half'),
  windows: await profile('windows'),
};
writeFileSync(values.out!, JSON.stringify(result, null, 2) + '\n');
const brief = (p: Awaited<ReturnType<typeof profile>>) => ({ ...p, topNodes: undefined });
process.stdout.write(`${JSON.stringify({ full: brief(result.full), half: brief(result.half), windows: brief(result.windows) }, null, 2)}\n`);
