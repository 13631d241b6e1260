// The quality bench: `node --import tsx bench/quality/run.ts [--portraits a,b] [--voices x,y] [--long-minutes 10]`.
// Renders offline through the real cascade (renderOffline + the default pack's stages) for portraits x voices and
// measures the frames with face-api (landmarks, descriptors) only: lip sync against the audio envelope, a closed
// and still mouth in silence, identity, a 10-minute stream's identity drift; visemes (text known) against
// pocketsphinx's phone timings; controls (frozen, random, misaligned) that must fail. Writes results.json and
// contact-sheet.png beside this file.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { forcedAlign, loadSharedDictionary, type PronouncedWord } from '../../src/audio/visemes/index.ts';
import { FRAME_US, PIPELINE_SAMPLE_RATE } from '../../src/media/types.ts';
import { DefaultRenderer, enrollPortrait } from '../../src/packs/default/index.ts';
import { machine } from '../machine.ts';
import { contactSheet, type SheetTile } from './frames.ts';
import { eyesOpenFraction } from '../../test/support/face-measures.ts';
import { TARGETS, aperture, failures, measureClip, measureIdentity, measureVisemes, mouthWidth, type FrameFace, type RefPhone } from './measure.ts';
import { PORTRAIT_NAMES, loadPortrait } from './portraits.ts';
import { calibrate, renderClip, type Drive, type RenderedClip } from './render-clip.ts';
import { envelopeFn, mean, percentile } from './signal.ts';
import { VOICES, speechClip, type SpeechClip, type VoiceName } from './speech.ts';
import { alignmentAgreement } from './agreement.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    portraits: { type: 'string', default: PORTRAIT_NAMES.join(',') },
    voices: { type: 'string', default: VOICES.join(',') },
    'long-minutes': { type: 'string', default: '10' },
    controls: { type: 'boolean', default: true },
    out: { type: 'string', default: path.join(here, 'results.json') },
    sheet: { type: 'string', default: path.join(here, 'contact-sheet.png') },
  },
});
const portraits = args.portraits.split(',').filter(Boolean);
const voices = args.voices.split(',').filter(Boolean) as VoiceName[];
const longMinutes = Number(args['long-minutes']);
const say = (s: string) => process.stderr.write(`${s}\n`);
const round = (x: number, d = 3) => (Number.isFinite(x) ? Number(x.toFixed(d)) : null);
const THUMB = 176;
const t0 = Date.now();

const dict = await loadSharedDictionary();
interface VoiceData {
  clip: SpeechClip;
  words: PronouncedWord[];
  ref: RefPhone[];
}
const voiceData = new Map<VoiceName, VoiceData>();
const alignment: Record<string, unknown> = {};
for (const v of voices) {
  const clip = speechClip(v);
  const words = dict.pronounce(clip.text);
  const ref = await forcedAlign(clip.samples, words);
  voiceData.set(v, { clip, words, ref });
  alignment[v] = alignmentAgreement(clip, ref, dict);
  say(`${v}: ${clip.durationS.toFixed(1)} s, ${ref.length} phones; in-process aligner vs pocketsphinx ${JSON.stringify(alignment[v])}`);
}

/** Frames worth a thumbnail: the pause's middle, the loudest frames, and frames inside p/b/m, oo/oh/w, ee/s phones. */
function thumbFrames(d: VoiceData): Set<number> {
  const env = envelopeFn(d.clip.samples);
  const n = Math.ceil((d.clip.samples.length / PIPELINE_SAMPLE_RATE) * 25);
  const s = d.clip.sentences;
  const out = new Set<number>([Math.round(((s[0].endS + (s[1]?.startS ?? s[0].endS + 1)) / 2) * 25)]);
  const loud = Array.from({ length: n }, (_, i) => i).sort((a, b) => env(b * FRAME_US) - env(a * FRAME_US));
  loud.slice(0, 12).forEach((i) => out.add(i));
  for (const p of d.ref) {
    if (!['P', 'B', 'M', 'UW', 'OW', 'W', 'IY'].includes(p.phone)) continue;
    for (let i = Math.ceil(p.startUs / FRAME_US); i * FRAME_US < p.endUs; i++) out.add(i);
  }
  return out;
}

interface ClipResult {
  readonly portrait: string;
  readonly voice: VoiceName;
  readonly drive: Drive;
  readonly [key: string]: unknown;
}
const clips: ClipResult[] = [];
const controls: ClipResult[] = [];
const sheetRows: SheetTile[][] = [];
let long: Record<string, unknown> | null = null;

function summarize(portrait: string, voice: VoiceName, drive: Drive, out: RenderedClip, d: VoiceData, calib: { neutral: number; open: number }, reference: Float32Array): ClipResult {
  const m = measureClip(out.faces, d.clip.samples, calib);
  const id = out.identity.length ? measureIdentity(out.identity, reference) : undefined;
  const v = measureVisemes(out.faces, d.ref, calib);
  const fails = failures(m, id);
  return {
    portrait,
    voice,
    drive,
    frames: m.frames,
    detected: m.detected,
    r: round(m.lip.r),
    lagMs: m.lip.lagMs,
    r0: round(m.lip.r0),
    silentFrames: m.silentFrames,
    closedFraction: round(m.closedFraction),
    jitterPx: round(m.jitterPx),
    jitterRawPx: round(m.jitterRawPx),
    apertureP50: round(m.apertureP50),
    apertureP90: round(m.apertureP90),
    closedThreshold: round(m.closedThreshold),
    identity: id ? { samples: id.samples, missed: id.missed, missedAt: id.missedAt, blinks: id.blinks, mean: round(id.mean), max: round(id.max), maxWithBlinks: round(id.maxWithBlinks) } : null,
    visemes: { bilabials: v.bilabials, bilabialClosed: round(v.bilabialClosed), spreadMinusRound: round(v.spreadMinusRound, 4) },
    renderS: round(out.renderS, 1),
    detectS: round(out.detectS, 1),
    pass: fails.length === 0,
    failures: fails,
  };
}

function pick(out: RenderedClip, faces: readonly FrameFace[], frames: (i: number) => boolean, score: (L: Float32Array) => number): number | undefined {
  let best: number | undefined;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (const f of faces) {
    if (!f.landmarks || !out.thumbs.has(f.index) || !frames(f.index)) continue;
    const s = score(f.landmarks);
    if (s > bestScore) {
      bestScore = s;
      best = f.index;
    }
  }
  return best;
}

const inPhones = (d: VoiceData, set: string[]) => (i: number) => d.ref.some((p) => set.includes(p.phone) && i * FRAME_US >= p.startUs && i * FRAME_US < p.endUs);

for (const name of portraits) {
  const portrait = await loadPortrait(name);
  const avatar = await enrollPortrait(portrait.image, { cacheDir: 'var/avatars' });
  const renderer = await DefaultRenderer.create(avatar, { intraOpThreads: 1 });
  try {
    const calib = await calibrate(renderer);
    const rest = { restLandmarks: avatar.landmarks, restEyesOpen: eyesOpenFraction(avatar.reference, avatar.width, avatar.landmarks) };
    say(`${name}: enrolled ${avatar.id}; aperture neutral ${calib.neutral.toFixed(3)}, jawOpen=1 ${calib.open.toFixed(3)}`);
    const row: SheetTile[] = [];
    const textTiles: SheetTile[] = [];
    // Thumbnails show the face (its detector box, enlarged 1.5x), where the mouth is big enough to judge.
    const fb = avatar.faceBox;
    const size = 1.5 * Math.max(fb.width, fb.height);
    const thumbRegion = { x: fb.x + fb.width / 2 - size / 2, y: fb.y + fb.height * 0.55 - size / 2, size };
    for (const [vi, voice] of voices.entries()) {
      const d = voiceData.get(voice)!;
      const thumbs = thumbFrames(d);
      for (const drive of ['real', 'text'] as const) {
        const out = await renderClip({ renderer, audio: d.clip.samples, drive, text: d.clip.text, every: 1, identityAt: (n) => n % 15 === 7, ...rest, thumbAt: (n) => thumbs.has(n), thumb: THUMB, thumbRegion });
        const res = summarize(name, voice, drive, out, d, calib, avatar.descriptor);
        clips.push(res);
        say(`  ${voice} ${drive}: r ${res.r} lag ${res.lagMs} ms, closed ${res.closedFraction}, jitter ${res.jitterPx} px, identity ${JSON.stringify(res.identity)}, visemes ${JSON.stringify(res.visemes)} ${res.pass ? 'PASS' : `FAIL ${JSON.stringify(res.failures)}`}`);
        const tile = (i: number | undefined, label: string, into: SheetTile[]) => {
          if (i !== undefined) into.push({ rgb: out.thumbs.get(i)!, label: `${label} ${(i * 0.04).toFixed(2)}s` });
        };
        if (drive === 'real') {
          if (vi === 0) {
            const mid = [...thumbs][0];
            tile(out.thumbs.has(mid) ? mid : undefined, `${name.slice(0, 10)} silent`, row);
          }
          tile(pick(out, out.faces, () => true, aperture), `${voice} open`, row);
        } else if (vi === Math.min(1, voices.length - 1)) {
          tile(pick(out, out.faces, inPhones(d, ['P', 'B', 'M']), (L) => -aperture(L)), `${voice}+text p/b/m`, textTiles);
          tile(pick(out, out.faces, inPhones(d, ['UW', 'OW', 'W']), (L) => -mouthWidth(L)), `${voice}+text oo`, textTiles);
          tile(pick(out, out.faces, inPhones(d, ['IY']), mouthWidth), `${voice}+text ee`, textTiles);
        }
      }
      if (args.controls && name === portraits[0] && vi === 0) {
        for (const drive of ['frozen', 'random', 'misaligned'] as const) {
          const out = await renderClip({ renderer, audio: d.clip.samples, drive, every: 1, identityAt: (n) => n % 15 === 7, ...rest });
          const res = summarize(name, voice, drive, out, d, calib, avatar.descriptor);
          controls.push(res);
          say(`  control ${drive}: r ${res.r} lag ${res.lagMs} ms, closed ${res.closedFraction}, jitter ${res.jitterPx} px ${res.pass ? 'PASSES (bad)' : `fails as it should: ${JSON.stringify(res.failures)}`}`);
        }
      }
    }
    sheetRows.push([...row, ...textTiles]);

    if (longMinutes > 0 && name === portraits[0]) {
      // A long stream: the first voice's clip looped; identity sampled 20 times in minute 1 and in the last minute.
      const d = voiceData.get(voices[0])!;
      const total = Math.round(longMinutes * 60 * PIPELINE_SAMPLE_RATE);
      const audio = new Int16Array(total);
      for (let at = 0; at < total; at += d.clip.samples.length) audio.set(d.clip.samples.subarray(0, Math.min(d.clip.samples.length, total - at)), at);
      const perMinute = 60 * 25;
      const lastStart = (longMinutes - 1) * perMinute;
      const at = (n: number) => (n < perMinute || n >= lastStart) && n % 75 === 37;
      say(`  long stream: ${longMinutes} min of looped ${voices[0]} speech...`);
      const out = await renderClip({ renderer, audio, drive: 'real', every: 0, identityAt: at, ...rest, onProgress: (k, n) => k % 3000 === 0 && say(`    ${k}/${n} frames`) });
      const first = measureIdentity(out.identity.filter((f) => f.index < perMinute), avatar.descriptor);
      const last = measureIdentity(out.identity.filter((f) => f.index >= lastStart), avatar.descriptor);
      const noWorse = last.missed <= 1 && last.mean <= first.mean + 0.02 && last.max <= TARGETS.identity;
      long = {
        portrait: name,
        voice: voices[0],
        minutes: longMinutes,
        frames: out.frames,
        renderS: round(out.renderS, 1),
        minute1: { samples: first.samples, missed: first.missed, blinks: first.blinks, mean: round(first.mean), max: round(first.max), maxWithBlinks: round(first.maxWithBlinks) },
        lastMinute: { samples: last.samples, missed: last.missed, blinks: last.blinks, mean: round(last.mean), max: round(last.max), maxWithBlinks: round(last.maxWithBlinks) },
        pass: noWorse,
      };
      say(`  long stream: minute 1 ${JSON.stringify(long.minute1)}, minute ${longMinutes} ${JSON.stringify(long.lastMinute)} ${noWorse ? 'PASS' : 'FAIL'}`);
    }
  } finally {
    await renderer.close();
  }
}

await mkdir(path.dirname(args.sheet), { recursive: true });
if (sheetRows.length) await contactSheet(sheetRows, THUMB, args.sheet);
const passing = clips.filter((c) => c.pass).length;
const results = {
  command: `node --import tsx bench/quality/run.ts ${process.argv.slice(2).join(' ')}`.trim(),
  machine: machine(),
  date: new Date().toISOString(),
  durationS: Math.round((Date.now() - t0) / 1000),
  measure: 'face-api 68 landmarks on every rendered frame (I420 -> RGB; tiny detector, SSD where it misses); SSD descriptors (tiny where it misses) every 15th frame, identity over open-eye frames (eye aspect ratio >= 0.18); never the coefficients',
  targets: TARGETS,
  portraits: await Promise.all(portraits.map(async (p) => {
    const x = await loadPortrait(p);
    return { name: x.name, source: x.source, licence: x.licence };
  })),
  voices: voices.map((v) => ({ voice: v, durationS: round(voiceData.get(v)!.clip.durationS, 2), sentences: voiceData.get(v)!.clip.sentences })),
  alignment,
  summary: {
    clips: clips.length,
    passing,
    rMin: round(Math.min(...clips.map((c) => c.r as number))),
    rMedian: round(percentile(clips.map((c) => c.r as number), 0.5)),
    maxAbsLagMs: Math.max(...clips.map((c) => Math.abs(c.lagMs as number))),
    closedMin: round(Math.min(...clips.map((c) => c.closedFraction as number))),
    jitterMaxPx: round(Math.max(...clips.map((c) => c.jitterPx as number))),
    identityMax: round(Math.max(...clips.map((c) => (c.identity as { max: number } | null)?.max ?? 0))),
    identityMaxWithBlinks: round(Math.max(...clips.map((c) => (c.identity as { maxWithBlinks: number } | null)?.maxWithBlinks ?? 0))),
    identityMissed: clips.reduce((a, c) => a + ((c.identity as { missed: number } | null)?.missed ?? 0), 0),
    identityBlinks: clips.reduce((a, c) => a + ((c.identity as { blinks: number } | null)?.blinks ?? 0), 0),
    bilabialClosedAudio: round(mean(clips.filter((c) => c.drive === 'real').map((c) => (c.visemes as { bilabialClosed: number }).bilabialClosed))),
    bilabialClosedText: round(mean(clips.filter((c) => c.drive === 'text').map((c) => (c.visemes as { bilabialClosed: number }).bilabialClosed))),
    spreadMinusRoundAudio: round(mean(clips.filter((c) => c.drive === 'real').map((c) => (c.visemes as { spreadMinusRound: number }).spreadMinusRound)), 4),
    spreadMinusRoundText: round(mean(clips.filter((c) => c.drive === 'text').map((c) => (c.visemes as { spreadMinusRound: number }).spreadMinusRound)), 4),
    controlsFailing: controls.filter((c) => !c.pass).length,
    controls: controls.length,
    longStreamPass: long ? (long.pass as boolean) : null,
  },
  clips,
  controls,
  long,
};
await writeFile(args.out, `${JSON.stringify(results, null, 2)}\n`);
say(`wrote ${args.out} and ${args.sheet} in ${results.durationS} s: ${passing}/${clips.length} clips pass; controls failing ${results.summary.controlsFailing}/${controls.length}`);
