// Starts the real recogniser (a child process, a model load) only when live audio first
// arrives, so sessions driven by TTS (which brings its own text) never pay for one.
import { TypedEmitter } from '../util/typed-emitter.ts';
import type { AudioChunk } from '../media/types.ts';
import type { RecognitionResult, RecognizerEvents, RecognizerStats, SpeechRecognizer } from './types.ts';

const EMPTY: RecognizerStats = { results: 0, words: 0, pushedS: 0, droppedSegments: 0, errors: 0, lastLatencyMs: 0, medianLatencyMs: 0 };

export class LazyRecognizer extends TypedEmitter<RecognizerEvents> implements SpeechRecognizer {
  readonly name: string;
  readonly #create: () => SpeechRecognizer;
  #real: SpeechRecognizer | null = null;
  #closed = false;

  constructor(name: string, create: () => SpeechRecognizer) {
    super();
    this.name = name;
    this.#create = create;
  }

  get started(): boolean {
    return this.#real !== null;
  }

  get stats(): Readonly<RecognizerStats> {
    return this.#real?.stats ?? EMPTY;
  }

  push(chunk: AudioChunk): void {
    if (this.#closed) return;
    if (!this.#real) {
      try {
        this.#real = this.#create();
      } catch (err) {
        // Unavailable (not installed): say so once, then stay quiet; the director goes on without words.
        this.#closed = true;
        this.emit('error', err as Error);
        return;
      }
      this.#real.on('result', (r: RecognitionResult) => this.emit('result', r));
      this.#real.on('error', (e: Error) => this.emit('error', e));
    }
    this.#real.push(chunk);
  }

  flush(): void {
    this.#real?.flush();
  }

  interrupt(atUs: number): void {
    this.#real?.interrupt(atUs);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#real?.close();
  }
}
