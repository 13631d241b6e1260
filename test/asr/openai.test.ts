// The OpenAI-compatible transcription recogniser against a local stand-in (multipart /v1/audio/transcriptions),
// and the pause segmenter it relies on.
import { afterEach, describe, expect, it } from 'vitest';
import { OpenAiTranscriber, PauseSegmenter, type RecognitionResult } from '../../src/asr/index.ts';
import { chunks, concat, json, silence, speech, standIn, until, type StandIn } from '../director/fixtures.ts';

let server: StandIn | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

/** Two utterances with a 1 s pause, starting at media time 2 s. */
function twoUtterances(): { samples: Int16Array; startUs: number } {
  return { samples: concat(silence(0.5), speech('espeak', 'Hello there.'), silence(1), speech('espeak', 'How are you today?'), silence(0.6)), startUs: 2_000_000 };
}

describe('PauseSegmenter', () => {
  it('cuts speech at pauses and keeps each segment on the media clock', () => {
    const { samples, startUs } = twoUtterances();
    const seg = new PauseSegmenter({ minPauseMs: 300 });
    const out = [];
    for (const c of chunks(samples, startUs)) {
      const pcm16k = new Int16Array(320);
      for (let i = 0; i < 320; i++) pcm16k[i] = c.samples[i * 3]!;
      out.push(...seg.push(c.ptsUs, pcm16k));
    }
    out.push(...seg.flush());
    expect(out).toHaveLength(2);
    expect(out[0]!.startUs).toBeGreaterThanOrEqual(startUs + 200_000);
    expect(out[0]!.startUs).toBeLessThan(startUs + 600_000);
    expect(out[1]!.startUs).toBeGreaterThan(out[0]!.endUs + 500_000);
    expect(out[0]!.samples.length).toBe(((out[0]!.endUs - out[0]!.startUs) / 1e6) * 16_000);
  });
});

describe('OpenAiTranscriber against a local stand-in', () => {
  it('posts each utterance as multipart WAV and maps word times onto the media clock', async () => {
    server = await standIn((req, body, res, n) => {
      const text = body.toString('latin1');
      if (!String(req.headers['content-type']).startsWith('multipart/form-data') || !text.includes('RIFF') || !text.includes('name="timestamp_granularities[]"')) {
        json(res, 400, { error: 'bad request' });
        return;
      }
      json(res, 200, n === 1 ? { text: 'Hello there.', words: [{ word: 'Hello', start: 0.2, end: 0.5 }, { word: 'there', start: 0.55, end: 0.9 }] } : { text: 'How are you today?' });
    });
    const asr = new OpenAiTranscriber({ baseUrl: server.url, model: 'whisper-stand-in', apiKey: 'sk-x' });
    const results: RecognitionResult[] = [];
    asr.on('result', (r) => results.push(r));
    const { samples, startUs } = twoUtterances();
    for (const c of chunks(samples, startUs)) asr.push(c);
    asr.flush();
    await until(() => results.length === 2);
    await asr.close();
    expect(server.requests).toHaveLength(2);
    expect(server.requests[0]!.path).toBe('/v1/audio/transcriptions');
    expect(server.requests[0]!.headers.authorization).toBe('Bearer sk-x');
    expect(server.requests[0]!.body.toString('latin1')).toContain('whisper-stand-in');
    const [first, second] = results;
    expect(first!.words.map((w) => w.word)).toEqual(['hello', 'there']);
    // Relative to the segment's start, which is inside the first half second of the audio.
    expect(first!.words[0]!.startUs).toBeGreaterThan(startUs + 200_000);
    expect(first!.words[0]!.startUs).toBeLessThan(startUs + 1_200_000);
    // Without word times, words are spread over the utterance, in order.
    expect(second!.words.map((w) => w.word)).toEqual(['how', 'are', 'you', 'today']);
    for (let i = 1; i < second!.words.length; i++) expect(second!.words[i]!.startUs).toBeGreaterThanOrEqual(second!.words[i - 1]!.endUs);
    expect(second!.words[0]!.startUs).toBeGreaterThan(first!.words[1]!.endUs + 500_000);
  });

  it('retries after a 500 and reports other errors as named errors', async () => {
    let calls = 0;
    server = await standIn((_req, _body, res) => {
      calls++;
      if (calls === 1) json(res, 500, { error: 'busy' });
      else json(res, 200, { text: 'hello', words: [{ word: 'hello', start: 0.1, end: 0.4 }] });
    });
    const asr = new OpenAiTranscriber({ baseUrl: server.url, model: 'm', retries: 1 });
    const results: RecognitionResult[] = [];
    asr.on('result', (r) => results.push(r));
    for (const c of chunks(concat(speech('espeak', 'Hello.'), silence(0.5)))) asr.push(c);
    await until(() => results.length === 1);
    expect(calls).toBe(2);
    await asr.close();

    await server.close();
    server = await standIn((_req, _body, res) => json(res, 401, { error: 'no key' }));
    const denied = new OpenAiTranscriber({ baseUrl: server.url, model: 'm' });
    const errors: Error[] = [];
    denied.on('error', (e) => errors.push(e));
    for (const c of chunks(concat(speech('espeak', 'Hello.'), silence(0.5)))) denied.push(c);
    await until(() => errors.length === 1);
    expect(errors[0]!.name).toBe('TranscriptionRequestError');
    expect(denied.stats.errors).toBe(1);
    await denied.close();
  });

  it('drops the oldest waiting segment when the endpoint falls behind (bounded queue)', async () => {
    server = await standIn(async (_req, _body, res) => {
      await new Promise((r) => setTimeout(r, 300));
      json(res, 200, { text: 'word', words: [{ word: 'word', start: 0, end: 0.2 }] });
    });
    const asr = new OpenAiTranscriber({ baseUrl: server.url, model: 'm', maxPending: 1 });
    const results: RecognitionResult[] = [];
    asr.on('result', (r) => results.push(r));
    const one = concat(speech('espeak', 'Hello.'), silence(0.5));
    for (const c of chunks(concat(one, one, one, one))) asr.push(c);
    await until(() => asr.stats.droppedSegments >= 1 && results.length + asr.stats.droppedSegments === 4, 5_000);
    expect(server.requests.length).toBe(results.length);
    await asr.close();
  });
});
