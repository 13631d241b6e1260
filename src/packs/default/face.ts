// Face detection in Node: @vladmandic/face-api (SSD MobileNet v1 or the tiny detector, 68 landmarks, 128-d
// descriptor) on tfjs's wasm backend. Weights and wasm binaries come from the installed packages, never the network.
// The models load once, lazily, on first use; detections are serialised (tfjs runs on this thread anyway).
import { createRequire } from 'node:module';
import path from 'node:path';
import { moduleLogger } from '../../log.ts';
import type { Box, DetectOptions, DetectedFace } from './types.ts';

type FaceApi = typeof import('@vladmandic/face-api');
type WasmBackend = typeof import('@tensorflow/tfjs-backend-wasm');
type Tfjs = typeof import('@tensorflow/tfjs');

const log = moduleLogger('packs/default/face');
const require = createRequire(import.meta.url);

export const LANDMARK_COUNT = 68;
export const DESCRIPTOR_LENGTH = 128;

/** Where face-api's weights live: the package's own `model/` folder. */
export function faceApiModelDir(): string {
  return path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
}

function wasmDir(): string {
  // Trailing separator: tfjs concatenates the file name onto this prefix.
  return path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
}

let ready: Promise<FaceApi> | undefined;
let queue: Promise<unknown> = Promise.resolve();

type ProcessEvent = 'uncaughtException' | 'unhandledRejection';
type AnyListener = (...args: never[]) => unknown;
const PROCESS_EVENTS: readonly ProcessEvent[] = ['uncaughtException', 'unhandledRejection'];

function listenersOf(event: ProcessEvent): AnyListener[] {
  return event === 'uncaughtException' ? process.listeners('uncaughtException') : process.listeners('unhandledRejection');
}

/**
 * tfjs-backend-wasm's emscripten glue installs process-wide 'uncaughtException' / 'unhandledRejection' listeners
 * that rethrow; they would override the server's own handlers. Remove exactly those (new since `before`, and
 * recognisably emscripten's), leaving anyone else's alone.
 */
function removeEmscriptenProcessListeners(before: ReadonlyMap<ProcessEvent, ReadonlySet<AnyListener>>): number {
  let removed = 0;
  for (const event of PROCESS_EVENTS) {
    for (const listener of listenersOf(event)) {
      if (before.get(event)?.has(listener)) continue;
      const src = String(listener);
      if (!src.includes('ExitStatus') && !/throw\s+reason/.test(src)) continue;
      if (event === 'uncaughtException') process.removeListener(event, listener as NodeJS.UncaughtExceptionListener);
      else process.removeListener(event, listener as NodeJS.UnhandledRejectionListener);
      removed++;
    }
  }
  return removed;
}

async function init(): Promise<FaceApi> {
  const t0 = performance.now();
  const before = new Map<ProcessEvent, ReadonlySet<AnyListener>>(PROCESS_EVENTS.map((e) => [e, new Set(listenersOf(e))]));
  // The node-wasm build requires @tensorflow/tfjs and @tensorflow/tfjs-backend-wasm itself; requiring the backend
  // here gets the same module instance, whose setWasmPaths must run before the backend initialises.
  const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
  const wasm = require('@tensorflow/tfjs-backend-wasm') as WasmBackend;
  const tf = require('@tensorflow/tfjs') as Tfjs;
  wasm.setWasmPaths(wasmDir());
  const ok = await tf.setBackend('wasm');
  if (!ok) throw new Error('tfjs wasm backend failed to initialise');
  await tf.ready();
  const removed = removeEmscriptenProcessListeners(before);
  const dir = faceApiModelDir();
  await Promise.all([
    faceapi.nets.ssdMobilenetv1.loadFromDisk(dir),
    faceapi.nets.tinyFaceDetector.loadFromDisk(dir),
    faceapi.nets.faceLandmark68Net.loadFromDisk(dir),
    faceapi.nets.faceRecognitionNet.loadFromDisk(dir),
  ]);
  log.debug({ ms: Math.round(performance.now() - t0), backend: tf.getBackend(), dir, removedProcessListeners: removed }, 'face-api ready');
  return faceapi;
}

/** Loads the models once; concurrent callers share the same promise, a failed load is retried next time. */
export function loadFaceModels(): Promise<FaceApi> {
  if (!ready) {
    ready = init().catch((err: unknown) => {
      ready = undefined;
      throw err;
    });
  }
  return ready;
}

/**
 * Finds every face in an RGB image (interleaved, width*height*3 bytes), best score first.
 * Landmarks and boxes are in the image's pixel coordinates.
 */
export async function detectFaces(rgb: Uint8Array, width: number, height: number, options: DetectOptions = {}): Promise<DetectedFace[]> {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`image size must be positive integers, got ${width}x${height}`);
  }
  if (rgb.length !== width * height * 3) {
    throw new RangeError(`expected ${width * height * 3} RGB bytes for ${width}x${height}, got ${rgb.length}`);
  }
  const detector = options.detector ?? 'ssd';
  const minScore = options.minScore ?? 0.5;
  if (detector !== 'ssd' && detector !== 'tiny') throw new RangeError(`detector must be 'ssd' or 'tiny', got '${String(detector)}'`);
  if (!(minScore >= 0 && minScore <= 1)) throw new RangeError(`minScore must be in [0, 1], got ${minScore}`);

  const faceapi = await loadFaceModels();
  const run = queue.then(() => detectNow(faceapi, rgb, width, height, detector, minScore));
  queue = run.catch(() => undefined);
  return run;
}

async function detectNow(faceapi: FaceApi, rgb: Uint8Array, width: number, height: number, detector: 'ssd' | 'tiny', minScore: number): Promise<DetectedFace[]> {
  const t0 = performance.now();
  const input = faceapi.tf.tensor3d(rgb, [height, width, 3], 'int32');
  try {
    const opts =
      detector === 'ssd'
        ? new faceapi.SsdMobilenetv1Options({ minConfidence: minScore, maxResults: 20 })
        : new faceapi.TinyFaceDetectorOptions({ inputSize: 416, scoreThreshold: minScore });
    const results = await faceapi.detectAllFaces(input, opts).withFaceLandmarks().withFaceDescriptors();
    const faces = results.map((r): DetectedFace => {
      const b = r.detection.box;
      const box: Box = Object.freeze({ x: b.x, y: b.y, width: b.width, height: b.height });
      const pts = r.landmarks.positions;
      if (pts.length !== LANDMARK_COUNT) throw new Error(`face-api returned ${pts.length} landmarks, expected ${LANDMARK_COUNT}`);
      const landmarks = new Float32Array(LANDMARK_COUNT * 2);
      pts.forEach((p, i) => {
        landmarks[2 * i] = p.x;
        landmarks[2 * i + 1] = p.y;
      });
      return Object.freeze({ box, score: r.detection.score, landmarks, descriptor: Float32Array.from(r.descriptor) });
    });
    faces.sort((a, b) => b.score - a.score);
    log.debug({ detector, width, height, faces: faces.length, ms: Math.round(performance.now() - t0) }, 'detectFaces');
    return faces;
  } finally {
    input.dispose();
  }
}
