// The avatar routes: list, upload (enrollment as a job), job status. Uploads are checked before anything is
// decoded (bearer key, Content-Type, declared length, then the image header's format and dimensions); the
// enrollment itself runs as a job, one at a time (it is CPU heavy), in a bounded queue: overflow policy refuse
// (503). Finished jobs stay readable for enrollJobTtlS, at most MAX_FINISHED_JOBS of them (oldest dropped).
import { randomUUID } from 'node:crypto';
import PQueue from 'p-queue';
import type { HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { z } from 'zod';
import { moduleLogger } from '../log.ts';
import { FaceIndexError, ImageDecodeError, MAX_FACE_INDEX, MultipleFacesError, NoFaceError } from '../packs/default/index.ts';
import { type AvatarInfo, type AvatarRegistry, ImageTooLargeError, UnsupportedImageError, facesOf, inspectImage } from '../session/avatars.ts';
import { ClientGoneError, HttpError, guard, readBody, sendError, sendJson } from './http.ts';
import type { ServerConfig } from './config.ts';

const log = moduleLogger('server/avatars-api');

const MAX_FINISHED_JOBS = 256;
const IMAGE_TYPES = new Set(['image/jpeg', 'image/jpg', 'image/png', 'image/webp']);

const uploadQuery = z
  .object({
    face: z
      .string()
      .regex(/^\d{1,2}$/, 'face must be a face number (0, 1, ...)')
      .transform(Number)
      .pipe(z.number().max(MAX_FACE_INDEX, `face must be at most ${MAX_FACE_INDEX}`))
      .optional(),
    name: z
      .string()
      .trim()
      .min(1, 'name must not be empty')
      .max(100, 'name must be at most 100 characters')
      .regex(/^[^\p{Cc}]*$/u, 'name must not contain control characters')
      .optional(),
    wait: z.enum(['', '0', '1', 'false', 'true'], 'wait must be 1 or 0').optional(),
  })
  .strict();

/** An API error with extra fields beside code and message (the faces to pick from). */
export class AvatarApiError extends HttpError {
  override name = 'AvatarApiError';
  constructor(
    status: number,
    code: string,
    message: string,
    readonly extra: Readonly<Record<string, unknown>> = {},
  ) {
    super(status, code, message);
  }
  get body() {
    return { code: this.code, message: this.message, ...this.extra };
  }
}

/** The enrollment queue is full. */
export class EnrollQueueFullError extends Error {
  override readonly name = 'EnrollQueueFullError';
}

function describeFaces(boxes: Parameters<typeof facesOf>[0]): string {
  return facesOf(boxes, [])
    .map((f) => `face ${f.index} at x=${Math.round(f.box.x)} y=${Math.round(f.box.y)} (${Math.round(f.box.width)}x${Math.round(f.box.height)} px)`)
    .join(', ');
}

/** Maps an upload or enrollment failure to its HTTP answer (branching on classes, not messages). */
export function avatarError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof ImageTooLargeError) return new HttpError(413, 'too-large', err.message);
  if (err instanceof UnsupportedImageError) return new HttpError(415, 'unsupported-type', err.message);
  if (err instanceof ImageDecodeError) return new HttpError(400, 'bad-image', `the upload is not a usable image: ${err.message}`);
  if (err instanceof NoFaceError) return new HttpError(422, 'no-face', 'no face found in the image: upload a portrait in which one face is clearly visible');
  if (err instanceof MultipleFacesError) {
    const faces = facesOf(err.boxes, err.scores);
    const msg = `${faces.length} faces found in the image; choose one with ?face=N, numbered left to right from 0: ${describeFaces(err.boxes)}`;
    return new AvatarApiError(422, 'multiple-faces', msg, { faces });
  }
  if (err instanceof FaceIndexError) {
    const faces = facesOf(err.boxes, err.scores);
    return new AvatarApiError(422, 'no-such-face', `${err.message}; choose with ?face=0 to ?face=${faces.length - 1} (left to right)`, { faces });
  }
  if (err instanceof EnrollQueueFullError) return new HttpError(503, 'busy', err.message);
  log.error({ err }, 'enrollment failed');
  return new HttpError(500, 'internal', `enrollment failed: ${(err as Error)?.message ?? String(err)}`);
}

function sendAvatarError(res: HttpResponse, s: { aborted: boolean }, err: unknown): void {
  if (err instanceof ClientGoneError) return void log.debug('upload abandoned by its client before its body was read');
  const e = avatarError(err);
  if (e instanceof AvatarApiError) sendJson(res, s, e.status, { error: e.body });
  else sendError(res, s, e);
}

type JobState = 'queued' | 'running' | 'done' | 'failed';

interface Job {
  readonly id: string;
  state: JobState;
  stage: string;
  progress: number;
  avatar?: AvatarInfo;
  failure?: HttpError;
  finishedAt?: number;
  /** Settles (never rejects) when the job has finished. */
  readonly finished: Promise<void>;
  settle(): void;
}

/** Enrollment jobs: a p-queue of concurrency 1, bounded to maxEnrollJobs queued or running. */
export class EnrollJobs {
  readonly #registry: AvatarRegistry;
  readonly #max: number;
  readonly #ttlMs: number;
  readonly #queue = new PQueue({ concurrency: 1 });
  readonly #jobs = new Map<string, Job>();
  /** Uploads whose bodies are being read: they hold a place, so that a refused upload is refused before reading. */
  #reading = 0;
  #closed = false;

  constructor(registry: AvatarRegistry, opts: { maxJobs: number; ttlS: number }) {
    this.#registry = registry;
    this.#max = opts.maxJobs;
    this.#ttlMs = opts.ttlS * 1000;
  }

  get stats(): { queued: number; running: number } {
    return { queued: this.#queue.size, running: this.#queue.pending };
  }

  /** Throws EnrollQueueFullError when maxEnrollJobs are queued or running. */
  assertRoom(): void {
    if (this.#closed) throw new EnrollQueueFullError('the server is shutting down');
    if (this.#queue.size + this.#queue.pending + this.#reading >= this.#max) {
      throw new EnrollQueueFullError(`${this.#max} enrollments are already queued, running or uploading; try again in a few seconds`);
    }
  }

  /**
   * Holds a place for an upload while its body is read (throws EnrollQueueFullError when there is none): at most
   * maxEnrollJobs uploads are read or held at once, so their memory is bounded by maxEnrollJobs x maxUploadBytes.
   * Returns the release, called once the body is read (or not), before the job is submitted.
   */
  reserve(): () => void {
    this.assertRoom();
    this.#reading++;
    let held = true;
    return () => {
      if (held) this.#reading--;
      held = false;
    };
  }

  submit(image: Uint8Array, opts: { face?: number; name?: string }): Job {
    this.assertRoom();
    this.#sweep();
    let settle!: () => void;
    const finished = new Promise<void>((r) => (settle = r));
    const job: Job = { id: randomUUID(), state: 'queued', stage: 'queued', progress: 0, finished, settle };
    this.#jobs.set(job.id, job);
    let bytes: Uint8Array | null = image; // dropped when done: the queue holds at most maxEnrollJobs uploads
    void this.#queue.add(async () => {
      if (job.state !== 'queued' || !bytes) return; // failed by close()
      job.state = 'running';
      try {
        job.avatar = await this.#registry.enroll(bytes, {
          ...opts,
          onProgress: (stage, fraction) => {
            job.stage = stage;
            job.progress = Math.round(fraction * 100) / 100;
          },
        });
        job.state = 'done';
        job.stage = 'done';
        job.progress = 1;
        log.info({ job: job.id, avatar: job.avatar.id }, 'avatar enrolled');
      } catch (err) {
        job.failure = avatarError(err);
        job.state = 'failed';
        log.info({ job: job.id, status: job.failure.status, code: job.failure.code }, 'enrollment refused');
      } finally {
        bytes = null;
        job.finishedAt = Date.now();
        job.settle();
      }
    });
    log.debug({ job: job.id, bytes: image.byteLength, ...this.stats }, 'enrollment queued');
    return job;
  }

  get(id: string): Job | undefined {
    this.#sweep();
    return this.#jobs.get(id);
  }

  /** What GET /api/avatars/jobs/:id answers. */
  view(job: Job): Record<string, unknown> {
    if (job.state === 'done') return { jobId: job.id, state: 'done', avatar: job.avatar };
    if (job.state === 'failed') {
      const f = job.failure ?? new HttpError(500, 'internal', 'enrollment failed');
      return { jobId: job.id, state: 'failed', status: f.status, error: f instanceof AvatarApiError ? f.body : { code: f.code, message: f.message } };
    }
    const view: Record<string, unknown> = { jobId: job.id, state: job.state, stage: job.stage, progress: job.progress };
    if (job.state === 'queued') view.position = [...this.#jobs.values()].filter((j) => j.state === 'queued').indexOf(job);
    return view;
  }

  /** Fails the queued jobs, waits for the running one. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#queue.clear();
    for (const job of this.#jobs.values()) {
      if (job.state !== 'queued') continue;
      job.state = 'failed';
      job.failure = new HttpError(503, 'shutting-down', 'the server shut down before this enrollment ran');
      job.finishedAt = Date.now();
      job.settle();
    }
    await this.#queue.onIdle();
  }

  #sweep(): void {
    const now = Date.now();
    const finished = [...this.#jobs.values()].filter((j) => j.finishedAt !== undefined);
    const excess = finished.length - MAX_FINISHED_JOBS;
    finished.forEach((j, i) => {
      if (i < excess || now - j.finishedAt! > this.#ttlMs) this.#jobs.delete(j.id);
    });
  }
}

export interface AvatarsApiDeps {
  readonly config: ServerConfig;
  readonly registry: AvatarRegistry;
  readonly baseUrl: () => string;
  /** Throws HttpError 401 unless the Authorization header carries the API key. */
  readonly requireApiKey: (auth: string) => void;
}

export class AvatarsApi {
  readonly jobs: EnrollJobs;
  readonly #d: AvatarsApiDeps;

  constructor(deps: AvatarsApiDeps) {
    this.#d = deps;
    this.jobs = new EnrollJobs(deps.registry, { maxJobs: deps.config.maxEnrollJobs, ttlS: deps.config.enrollJobTtlS });
  }

  routes(app: TemplatedApp): void {
    app.get('/api/avatars', (res) => {
      const s = guard(res);
      this.#d.registry.list().then(
        (avatars) => sendJson(res, s, 200, { avatars }),
        (err: unknown) => sendError(res, s, err),
      );
    });
    app.post('/api/avatars', (res, req) => this.#upload(res, req.getHeader('authorization'), req.getHeader('content-type'), req.getHeader('content-length'), (k) => req.getQuery(k)));
    app.get('/api/avatars/jobs/:id', (res, req) => {
      const s = guard(res);
      try {
        this.#d.requireApiKey(req.getHeader('authorization'));
        const id = req.getParameter(0) ?? '';
        const job = this.jobs.get(id);
        if (!job) throw new HttpError(404, 'unknown-job', `no enrollment job '${id.slice(0, 64)}' (finished jobs are kept ${this.#d.config.enrollJobTtlS} s)`);
        sendJson(res, s, 200, this.jobs.view(job));
      } catch (err) {
        sendError(res, s, err);
      }
    });
  }

  close(): Promise<void> {
    return this.jobs.close();
  }

  /** Synchronous up to readBody (uWS: the body handler must be attached before the handler returns). */
  #upload(res: HttpResponse, auth: string, contentType: string, length: string, query: (k: string) => string | undefined): void {
    const s = guard(res);
    const { config } = this.#d;
    let q: z.output<typeof uploadQuery>;
    try {
      this.#d.requireApiKey(auth);
      const type = contentType.split(';')[0]!.trim().toLowerCase();
      if (!IMAGE_TYPES.has(type)) throw new HttpError(415, 'unsupported-type', `Content-Type must be image/jpeg, image/png or image/webp (got '${type.slice(0, 64) || 'none'}'); send the image bytes as the body`);
      const raw = Object.fromEntries(['face', 'name', 'wait'].flatMap((k) => (query(k) === undefined ? [] : [[k, query(k)]])));
      const parsed = uploadQuery.safeParse(raw);
      if (!parsed.success) throw new HttpError(400, 'bad-request', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      q = parsed.data;
    } catch (err) {
      return sendAvatarError(res, s, err);
    }
    let release: () => void;
    try {
      release = this.jobs.reserve();
    } catch (err) {
      return sendAvatarError(res, s, err);
    }
    const limits = { maxBytes: config.maxUploadBytes, maxSide: config.maxImageSide };
    void (async () => {
      try {
        let body: Buffer;
        let meta: Awaited<ReturnType<typeof inspectImage>>;
        try {
          body = await readBody(res, s, limits.maxBytes, length);
          meta = await inspectImage(body, limits);
        } finally {
          release();
        }
        if (s.aborted) return;
        const job = this.jobs.submit(body, { face: q.face, name: q.name });
        log.debug({ job: job.id, ...meta, face: q.face }, 'avatar upload accepted');
        if (q.wait === '1' || q.wait === 'true') {
          await job.finished;
          if (job.state === 'done') return sendJson(res, s, 201, job.avatar);
          return sendAvatarError(res, s, job.failure);
        }
        sendJson(res, s, 202, { jobId: job.id, state: job.state, statusUrl: `${this.#d.baseUrl()}/api/avatars/jobs/${job.id}` });
      } catch (err) {
        sendAvatarError(res, s, err);
      }
    })();
  }
}
