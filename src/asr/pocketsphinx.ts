// The embedded recogniser: Debian's pocketsphinx (5prealpha, `pocketsphinx_continuous`) in one child process per
// session, reading raw 16 kHz PCM16 from a FIFO (its -infile must be openable by name, and node's stdio pipes are
// sockets, which /dev/stdin cannot open). We cut the audio at pauses ourselves and write only speech, as it
// arrives, each segment followed by a short silence so the decoder closes the utterance at once; it prints the
// words with stream times (-time yes), which we map back to media times through what we wrote.
// Accuracy: decent on clear speech; the first utterance of a session is weaker while its cepstral mean adapts.
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { setPriority } from 'node:os';
import { closeSync, constants, createWriteStream, existsSync, mkdtempSync, openSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { AudioChunk } from '../media/types.ts';
import { moduleLogger } from '../log.ts';
import { TypedEmitter } from '../util/typed-emitter.ts';
import { Downsampler, SPEECH_SAMPLE_RATE } from './downsample.ts';
import { PauseSegmenter, type SegmenterEvent, type SegmenterOptions } from './segmenter.ts';
import { LatencyWindow, wordFromToken } from './util.ts';
import { RecognizerUnavailableError, type RecognitionResult, type RecognizedWord, type RecognizerEvents, type RecognizerStats, type SpeechRecognizer } from './types.ts';

const log = moduleLogger('asr/pocketsphinx');

export const POCKETSPHINX_MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';

export interface PocketsphinxOptions {
  /** Default `pocketsphinx_continuous` on PATH. */
  binary?: string;
  /** Acoustic model, language model, dictionary; default Debian's pocketsphinx-en-us. */
  hmm?: string;
  lm?: string;
  dict?: string;
  segmenter?: SegmenterOptions;
  /** Silence written after each segment so the decoder ends the utterance, ms (default 700). */
  padMs?: number;
  /** Audio waiting in the child's stdin beyond this is dropped (policy: drop-newest segment), s (default 20). */
  maxBacklogS?: number;
  extraArgs?: readonly string[];
}

/** A stretch of the decoder's input stream that is contiguous on the media clock. */
interface Written {
  streamStart: number;
  streamEnd: number;
  ptsUs: number;
}

const MAX_WRITTEN = 512;
const MAX_WRITES = 3_000;

const TIME_LINE = /^(\S+) (-?\d+(?:\.\d+)?) (-?\d+(?:\.\d+)?) (\S+)$/;

export class PocketsphinxRecognizer extends TypedEmitter<RecognizerEvents> implements SpeechRecognizer {
  readonly name = 'pocketsphinx';
  readonly #opts: Required<Omit<PocketsphinxOptions, 'segmenter' | 'extraArgs'>> & { extraArgs: readonly string[] };
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #dir: string;
  readonly #fifo: string;
  readonly #input: WriteStream;
  readonly #down = new Downsampler();
  readonly #segmenter: PauseSegmenter;
  readonly #written: Written[] = [];
  /** When each piece of input went in (stream end sample, wall ms), for latency. Bounded: drop-oldest. */
  readonly #writes: { streamEnd: number; wallMs: number }[] = [];
  #skipping = false;
  readonly #exited: Promise<void>;
  readonly #latency = new LatencyWindow();
  readonly #stats: RecognizerStats = { results: 0, words: 0, pushedS: 0, droppedSegments: 0, errors: 0, lastLatencyMs: 0, medianLatencyMs: 0 };
  #streamSamples = 0;
  /** The utterance being printed: words and where each ends in the decoder's input stream. */
  #words: { w: RecognizedWord; streamEnd: number }[] = [];
  #dropBeforeUs = -Infinity;
  #closed = false;
  #stderrTail = '';

  /** True when the binary and Debian's English model are installed. */
  static available(binary = 'pocketsphinx_continuous'): boolean {
    return findOnPath(binary) !== null && existsSync(join(POCKETSPHINX_MODEL_DIR, 'en-us', 'mdef'));
  }

  constructor(opts: PocketsphinxOptions = {}) {
    super();
    this.#opts = Object.freeze({
      binary: opts.binary ?? 'pocketsphinx_continuous',
      hmm: opts.hmm ?? join(POCKETSPHINX_MODEL_DIR, 'en-us'),
      lm: opts.lm ?? join(POCKETSPHINX_MODEL_DIR, 'en-us.lm.bin'),
      dict: opts.dict ?? join(POCKETSPHINX_MODEL_DIR, 'cmudict-en-us.dict'),
      padMs: opts.padMs ?? 700,
      maxBacklogS: opts.maxBacklogS ?? 20,
      extraArgs: [...(opts.extraArgs ?? [])],
    });
    if (findOnPath(this.#opts.binary) === null) throw new RecognizerUnavailableError(`'${this.#opts.binary}' not found: apt-get install pocketsphinx pocketsphinx-en-us`);
    for (const p of [this.#opts.hmm, this.#opts.lm, this.#opts.dict]) {
      if (!existsSync(p)) throw new RecognizerUnavailableError(`pocketsphinx model file missing: ${p}`);
    }
    this.#segmenter = new PauseSegmenter(opts.segmenter);
    this.#dir = mkdtempSync(join(tmpdir(), 'facecast-asr-'));
    this.#fifo = join(this.#dir, 'audio.raw');
    execFileSync('mkfifo', [this.#fifo]);
    // -dither: pure digital silence otherwise upsets the decoder's noise estimate.
    const args = ['-infile', this.#fifo, '-time', 'yes', '-logfn', '/dev/null', '-dither', 'yes', '-hmm', this.#opts.hmm, '-lm', this.#opts.lm, '-dict', this.#opts.dict, ...this.#opts.extraArgs];
    this.#child = spawn(this.#opts.binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    // Recognition feeds plans seconds ahead; frames are due every 40 ms. On a busy CPU the
    // renderer and the encoder must win, so the recogniser runs at a lower priority.
    if (this.#child.pid !== undefined) {
      try {
        setPriority(this.#child.pid, 10);
      } catch {
        // not permitted here: it runs at normal priority
      }
    }
    this.#child.stdin.end();
    // Opening a FIFO for writing waits for its reader; the stream buffers writes until then.
    this.#input = createWriteStream(this.#fifo);
    this.#input.on('error', (err) => {
      if (!this.#closed) this.#fail(err);
    });
    this.#exited = new Promise((resolve) => this.#child.once('close', () => resolve()));
    this.#child.once('exit', (code, signal) => {
      this.#releaseWriter();
      if (!this.#closed) this.#fail(new Error(`pocketsphinx exited (code ${code}, signal ${signal}): ${this.#stderrTail.trim().slice(-300)}`));
    });
    this.#child.on('error', (err) => this.#fail(err));
    this.#child.stderr.on('data', (d: Buffer) => {
      this.#stderrTail = (this.#stderrTail + d.toString()).slice(-2000);
    });
    createInterface({ input: this.#child.stdout }).on('line', this.#onLine);
    log.debug({ args }, 'pocketsphinx started');
  }

  get stats(): Readonly<RecognizerStats> {
    return this.#stats;
  }

  push(chunk: AudioChunk): void {
    if (this.#closed) return;
    this.#stats.pushedS += chunk.samples.length / 48_000;
    const pcm = this.#down.process(chunk.samples);
    for (const e of this.#segmenter.stream(chunk.ptsUs, pcm)) this.#write(e);
  }

  flush(): void {
    if (this.#closed) return;
    for (const e of this.#segmenter.flushStream()) this.#write(e);
  }

  interrupt(atUs: number): void {
    this.#segmenter.reset();
    this.#down.reset();
    // Words the decoder still reports from before the cut stay; later ones are dropped when they arrive.
    this.#dropBeforeUs = atUs;
  }

  async close(): Promise<void> {
    if (this.#closed) return this.#exited;
    this.flush();
    this.#closed = true;
    this.#input.end();
    // The decoder prints the last utterance at end of input; give it a moment, then stop it.
    const timer = setTimeout(() => this.#child.kill('SIGTERM'), 3_000);
    await this.#exited;
    clearTimeout(timer);
    this.#input.destroy();
    rmSync(this.#dir, { recursive: true, force: true });
    this.#emitUtterance();
    this.removeAllListeners();
  }

  #write(e: SegmenterEvent): void {
    if (e.type === 'start') {
      const backlogS = this.#input.writableLength / 2 / SPEECH_SAMPLE_RATE;
      this.#skipping = backlogS > this.#opts.maxBacklogS;
      if (this.#skipping) {
        this.#stats.droppedSegments++;
        log.warn({ backlogS }, 'pocketsphinx is behind: speech segment dropped');
        return;
      }
      this.#written.push({ streamStart: this.#streamSamples, streamEnd: this.#streamSamples, ptsUs: e.ptsUs });
      if (this.#written.length > MAX_WRITTEN) this.#written.shift();
      return;
    }
    if (this.#skipping) {
      if (e.type === 'end') this.#skipping = false;
      return;
    }
    const samples = e.type === 'audio' ? e.samples : new Int16Array(Math.round((this.#opts.padMs / 1000) * SPEECH_SAMPLE_RATE));
    this.#input.write(Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength));
    this.#streamSamples += samples.length;
    if (e.type === 'audio') {
      const w = this.#written[this.#written.length - 1];
      if (w) w.streamEnd = this.#streamSamples;
      this.#writes.push({ streamEnd: this.#streamSamples, wallMs: performance.now() });
      if (this.#writes.length > MAX_WRITES) this.#writes.shift();
    }
  }

  readonly #onLine = (line: string): void => {
    const m = TIME_LINE.exec(line.trim());
    if (!m) return; // the hypothesis line; the timed lines that follow carry the same words
    const token = m[1]!;
    if (token === '</s>') {
      this.#emitUtterance();
      return;
    }
    const word = wordFromToken(token);
    if (!word) return;
    const start = this.#mediaUs(Number(m[2]));
    const end = this.#mediaUs(Number(m[3]));
    if (start === null || end === null) return;
    const confidence = Math.max(0, Math.min(1, Number(m[4])));
    this.#words.push({ w: { word, startUs: start.us, endUs: Math.max(end.us, start.us), confidence: Number.isFinite(confidence) ? confidence : 1 }, streamEnd: Math.round(Number(m[3]) * SPEECH_SAMPLE_RATE) });
  };

  #emitUtterance(): void {
    const timed = this.#words.filter(({ w }) => w.startUs >= this.#dropBeforeUs || w.endUs <= this.#dropBeforeUs);
    this.#words = [];
    const words = timed.map((t) => t.w);
    if (words.length === 0) return;
    const lastEnd = timed[timed.length - 1]!.streamEnd;
    // From the moment the utterance's last word had been written to the decoder.
    const write = this.#writes.find((w) => w.streamEnd >= lastEnd);
    const latencyMs = write ? performance.now() - write.wallMs : 0;
    this.#latency.add(latencyMs);
    this.#stats.results++;
    this.#stats.words += words.length;
    this.#stats.lastLatencyMs = latencyMs;
    this.#stats.medianLatencyMs = this.#latency.median();
    const result: RecognitionResult = Object.freeze({ words: Object.freeze(words), text: words.map((w) => w.word).join(' '), latencyMs });
    this.emit('result', result);
  }

  /** Stream seconds -> media time through the segments written; times inside a pad clamp to its segment's end. */
  #mediaUs(streamS: number): { us: number } | null {
    const sample = Math.round(streamS * SPEECH_SAMPLE_RATE);
    for (let i = this.#written.length - 1; i >= 0; i--) {
      const w = this.#written[i]!;
      if (sample < w.streamStart) continue;
      const inside = Math.min(sample, w.streamEnd) - w.streamStart;
      return { us: Math.round(w.ptsUs + (inside / SPEECH_SAMPLE_RATE) * 1e6) };
    }
    return null;
  }

  /** A child that died before opening the FIFO leaves our open() waiting in the thread pool: be its reader once. */
  #releaseWriter(): void {
    if (this.#input.pending) {
      try {
        closeSync(openSync(this.#fifo, constants.O_RDONLY | constants.O_NONBLOCK));
      } catch {
        // already opened or removed: nothing waits
      }
    }
  }

  #fail(err: Error): void {
    this.#stats.errors++;
    log.error({ err }, 'pocketsphinx failed');
    this.emit('error', err);
  }
}

function findOnPath(binary: string): string | null {
  if (binary.includes('/')) return existsSync(binary) ? binary : null;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, binary);
    if (dir && existsSync(p)) return p;
  }
  return null;
}
