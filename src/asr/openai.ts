// The alternative recogniser: any OpenAI-compatible transcription endpoint (POST {baseUrl}/audio/transcriptions,
// multipart: file, model, response_format=verbose_json, timestamp_granularities[]=word). Audio is cut at pauses;
// each segment is one request, in order, from a bounded queue (policy: drop-oldest, counted).
import { z } from 'zod';
import type { AudioChunk } from '../media/types.ts';
import { moduleLogger } from '../log.ts';
import { TypedEmitter } from '../util/typed-emitter.ts';
import { Downsampler, SPEECH_SAMPLE_RATE } from './downsample.ts';
import { PauseSegmenter, type SegmenterOptions, type SpeechSegment } from './segmenter.ts';
import { LatencyWindow, syllableWeight, wavFile, wordFromToken } from './util.ts';
import { TranscriptionRequestError, type RecognitionResult, type RecognizedWord, type RecognizerEvents, type RecognizerStats, type SpeechRecognizer } from './types.ts';

const log = moduleLogger('asr/openai');

export const transcriptionConfigSchema = z
  .object({
    /** e.g. http://127.0.0.1:8000/v1 */
    baseUrl: z.string().url(),
    model: z.string().min(1).max(200),
    apiKey: z.string().max(500).optional(),
    language: z.string().min(2).max(10).optional(),
    timeoutMs: z.number().int().positive().max(120_000).default(10_000),
    /** Extra attempts after a network error or a 5xx/429 answer. */
    retries: z.number().int().min(0).max(5).default(1),
    /** Segments waiting for a request beyond this are dropped, oldest first. */
    maxPending: z.number().int().positive().max(64).default(4),
  })
  .strict();
export type TranscriptionConfig = z.input<typeof transcriptionConfigSchema>;

const answerSchema = z.object({
  text: z.string(),
  words: z.array(z.object({ word: z.string(), start: z.number(), end: z.number() })).optional(),
});

export class OpenAiTranscriber extends TypedEmitter<RecognizerEvents> implements SpeechRecognizer {
  readonly name = 'openai-transcription';
  readonly config: Readonly<z.output<typeof transcriptionConfigSchema>>;
  readonly #down = new Downsampler();
  readonly #segmenter: PauseSegmenter;
  readonly #pending: { seg: SpeechSegment; pushedAt: number }[] = [];
  readonly #abort = new AbortController();
  readonly #latency = new LatencyWindow();
  readonly #stats: RecognizerStats = { results: 0, words: 0, pushedS: 0, droppedSegments: 0, errors: 0, lastLatencyMs: 0, medianLatencyMs: 0 };
  #worker: Promise<void> | null = null;
  #epoch = 0;
  #closed = false;

  constructor(config: TranscriptionConfig, segmenter?: SegmenterOptions) {
    super();
    this.config = Object.freeze(transcriptionConfigSchema.parse(config));
    this.#segmenter = new PauseSegmenter(segmenter);
  }

  get stats(): Readonly<RecognizerStats> {
    return this.#stats;
  }

  push(chunk: AudioChunk): void {
    if (this.#closed) return;
    this.#stats.pushedS += chunk.samples.length / 48_000;
    for (const seg of this.#segmenter.push(chunk.ptsUs, this.#down.process(chunk.samples))) this.#enqueue(seg);
  }

  flush(): void {
    if (this.#closed) return;
    for (const seg of this.#segmenter.flush()) this.#enqueue(seg);
  }

  interrupt(_atUs: number): void {
    this.#segmenter.reset();
    this.#down.reset();
    this.#pending.length = 0;
    this.#epoch++; // an answer in flight for the old epoch is dropped
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending.length = 0;
    this.#abort.abort();
    await this.#worker;
    this.removeAllListeners();
  }

  #enqueue(seg: SpeechSegment): void {
    this.#pending.push({ seg, pushedAt: performance.now() });
    if (this.#pending.length > this.config.maxPending) {
      this.#pending.shift();
      this.#stats.droppedSegments++;
      log.warn('transcription endpoint is behind: oldest speech segment dropped');
    }
    this.#worker ??= this.#drain().finally(() => {
      this.#worker = null;
    });
  }

  async #drain(): Promise<void> {
    while (this.#pending.length > 0 && !this.#closed) {
      const { seg, pushedAt } = this.#pending.shift()!;
      const epoch = this.#epoch;
      try {
        const answer = await this.#request(seg);
        if (epoch !== this.#epoch || this.#closed) continue;
        const words = wordsFromAnswer(answer, seg);
        if (words.length === 0) continue;
        const latencyMs = performance.now() - pushedAt;
        this.#latency.add(latencyMs);
        this.#stats.results++;
        this.#stats.words += words.length;
        this.#stats.lastLatencyMs = latencyMs;
        this.#stats.medianLatencyMs = this.#latency.median();
        const result: RecognitionResult = Object.freeze({ words: Object.freeze(words), text: answer.text.trim(), latencyMs });
        this.emit('result', result);
      } catch (err) {
        if (this.#closed) return;
        this.#stats.errors++;
        log.warn({ err }, 'transcription request failed');
        this.emit('error', err as Error);
      }
    }
  }

  async #request(seg: SpeechSegment): Promise<z.infer<typeof answerSchema>> {
    const { baseUrl, model, apiKey, language, timeoutMs, retries } = this.config;
    let lastErr: Error = new TranscriptionRequestError('no attempt made');
    for (let attempt = 0; attempt <= retries; attempt++) {
      const form = new FormData();
      form.append('file', new Blob([wavFile(seg.samples, SPEECH_SAMPLE_RATE)], { type: 'audio/wav' }), 'speech.wav');
      form.append('model', model);
      form.append('response_format', 'verbose_json');
      form.append('timestamp_granularities[]', 'word');
      if (language) form.append('language', language);
      try {
        const res = await fetch(`${baseUrl.replace(/\/$/, '')}/audio/transcriptions`, {
          method: 'POST',
          body: form,
          headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
          signal: AbortSignal.any([this.#abort.signal, AbortSignal.timeout(timeoutMs)]),
        });
        const body = await res.text();
        if (!res.ok) {
          lastErr = new TranscriptionRequestError(`transcription endpoint answered ${res.status}: ${body.slice(0, 200)}`, res.status);
          if (res.status >= 500 || res.status === 429) continue;
          throw lastErr;
        }
        const parsed = answerSchema.safeParse(JSON.parse(body));
        if (!parsed.success) throw new TranscriptionRequestError(`unexpected transcription answer: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
        return parsed.data;
      } catch (err) {
        if (err instanceof TranscriptionRequestError || this.#closed) throw err;
        lastErr = new TranscriptionRequestError(`transcription request failed: ${(err as Error).message}`);
      }
    }
    throw lastErr;
  }
}

/** Word times are relative to the segment; without them, words are spread over it by syllables. */
function wordsFromAnswer(answer: z.infer<typeof answerSchema>, seg: SpeechSegment): RecognizedWord[] {
  const span = seg.endUs - seg.startUs;
  if (answer.words && answer.words.length > 0) {
    return answer.words
      .map((w) => ({ word: wordFromToken(w.word.replace(/[^\p{L}\p{N}'-]/gu, '')) ?? '', startUs: seg.startUs + Math.round(w.start * 1e6), endUs: seg.startUs + Math.round(w.end * 1e6), confidence: 1 }))
      .filter((w) => w.word.length > 0 && w.endUs >= w.startUs);
  }
  const tokens = answer.text.split(/\s+/).map((t) => wordFromToken(t.replace(/[^\p{L}\p{N}'-]/gu, ''))).filter((t): t is string => !!t);
  const weights = tokens.map(syllableWeight);
  const total = weights.reduce((a, b) => a + b, 0) || 1;
  let acc = 0;
  return tokens.map((word, i) => {
    const startUs = seg.startUs + Math.round((acc / total) * span);
    acc += weights[i]!;
    return { word, startUs, endUs: seg.startUs + Math.round((acc / total) * span), confidence: 0.5 };
  });
}
