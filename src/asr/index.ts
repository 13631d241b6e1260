// Speech recognition for live mode (src/asr): pocketsphinx embedded by default, an OpenAI-compatible
// transcription endpoint as the alternative. Both cut audio at pauses and report words on the media clock.
export * from './types.ts';
export { PocketsphinxRecognizer, POCKETSPHINX_MODEL_DIR, type PocketsphinxOptions } from './pocketsphinx.ts';
export { OpenAiTranscriber, transcriptionConfigSchema, type TranscriptionConfig } from './openai.ts';
export { PauseSegmenter, type SegmenterOptions, type SpeechSegment } from './segmenter.ts';
export { Downsampler, SPEECH_SAMPLE_RATE } from './downsample.ts';
export { wavFile } from './util.ts';
export { LazyRecognizer } from './lazy.ts';
