// Owns the sessions (a Map; each forgets itself when it closes), the worker pool and the loaded avatars'
// renderers: one onnxruntime session per avatar, shared by all of its sessions, loaded on first use. Loaded
// avatars are an LRU bounded by maxLoadedAvatars; overflow policy: release the least recently used avatar that
// no session uses (pinned ones, the built-in, stay). When every loaded avatar is in use, the bound is exceeded
// until one is released rather than refusing a session.
import { moduleLogger } from '../log.ts';
import type { WorkerPool } from '../rtc/worker-pool.ts';
import type { AvatarPack, HeadRate, PackAvatar } from '../cascade/types.ts';
import type { PortraitSource } from '../director/index.ts';
import { AvatarSession, type SessionOptions } from './session.ts';
import { Capacity, CapacityError } from './capacity.ts';
import { processCpuSeconds } from '../util/proc.ts';
import { metrics } from '../metrics/index.ts';

const log = moduleLogger('session/manager');

export class SessionLimitError extends Error {
  override name = 'SessionLimitError';
}

export class UnknownAvatarError extends Error {
  override name = 'UnknownAvatarError';
}

/** Where avatars come from (the AvatarRegistry); A: the pack's enrolled avatar. */
export interface AvatarSource<A> {
  get(id: string): Promise<{ readonly id: string } | undefined>;
  load(id: string): Promise<A>;
}

export interface SessionManagerOptions {
  readonly maxSessions: number;
  /** Avatars whose renderer stays loaded (LRU). */
  readonly maxLoadedAvatars: number;
  /** Sessions served in real time (admission); default: measured ('auto'). */
  readonly capacity?: Capacity;
  /** Most render threads an avatar's renderer grows to (sessions sharing it); default: the capacity's cores. */
  readonly maxRenderThreadsPerAvatar?: number;
  /** How often sessions render the head and torso layers (HeadRate); default 'full'. */
  readonly headRate?: HeadRate;
}

interface LoadedAvatar {
  readonly id: string;
  /** The pack's side: shared by the avatar's sessions (its renderer), each session's stages made on it. */
  readonly pack: PackAvatar;
  /** What the director reads of the avatar's picture. */
  readonly portrait: PortraitSource;
  /** Sessions using it (and creations under way). */
  users: number;
  pinned: boolean;
  released: boolean;
}

/** A: the pack's enrolled avatar (what the AvatarSource loads and the pack renders). */
export class SessionManager<A extends PortraitSource = PortraitSource> {
  readonly #pool: WorkerPool;
  readonly #avatars: AvatarSource<A>;
  readonly #pack: AvatarPack<A>;
  readonly #sessions = new Map<string, AvatarSession>();
  readonly #defaults: Omit<SessionOptions, 'avatarId'>;
  readonly #opts: SessionManagerOptions;
  /** Insertion order is recency: an avatar is moved to the end when used. */
  readonly #loaded = new Map<string, LoadedAvatar>();
  readonly #loading = new Map<string, Promise<LoadedAvatar>>();
  readonly #releasing = new Set<Promise<void>>();
  #creating = 0;
  #closed = false;
  readonly capacity: Capacity;

  constructor(pool: WorkerPool, defaults: Omit<SessionOptions, 'avatarId'>, avatars: AvatarSource<A>, pack: AvatarPack<A>, opts: SessionManagerOptions) {
    if (!Number.isInteger(opts.maxSessions) || opts.maxSessions < 1) throw new RangeError(`maxSessions must be a positive integer, got ${opts.maxSessions}`);
    if (!Number.isInteger(opts.maxLoadedAvatars) || opts.maxLoadedAvatars < 1) {
      throw new RangeError(`maxLoadedAvatars must be a positive integer, got ${opts.maxLoadedAvatars}`);
    }
    this.#pool = pool;
    this.#defaults = defaults;
    this.#avatars = avatars;
    this.#pack = pack;
    this.#opts = Object.freeze({ ...opts });
    this.capacity = opts.capacity ?? new Capacity({ stated: 'auto', headroom: 0.7 });
    // A dead mediasoup worker was replaced: the sessions that lived on it rebuild their rooms on the new one.
    pool.on('replaced', (dead, fresh) => {
      for (const session of this.#sessions.values()) {
        if (session.room.worker !== dead) continue;
        session.moveRoom(fresh).then(
          () => {
            metrics.faults.inc({ kind: 'session-moved' });
            log.info({ session: session.id, pid: fresh.pid }, 'session moved to a new mediasoup worker');
          },
          (err: unknown) => {
            log.error({ err, session: session.id }, 'session could not move to a new mediasoup worker: ending it');
            void this.end(session.id).catch(() => undefined);
          },
        );
      }
    });
    this.capacity.start(() => ({ sessions: this.#sessions.size, lateFrames: this.lateFrames(), cpuSeconds: this.cpuSeconds() }));
  }

  /** Frames repeated because not ready, running sessions together. */
  lateFrames(): number {
    let n = 0;
    for (const s of this.#sessions.values()) n += s.stats().lateFrames;
    return n;
  }

  /** CPU seconds so far of this process (all its threads), the sessions' encoders and the mediasoup workers. */
  cpuSeconds(): number {
    let total = processCpuSeconds(process.pid) ?? 0;
    for (const s of this.#sessions.values()) for (const pid of s.pids) total += processCpuSeconds(pid) ?? 0;
    for (const pid of this.#pool.pids) total += processCpuSeconds(pid) ?? 0;
    return total;
  }

  /**
   * The render probe: the pack renders `frames` frames of a talking face on the avatar and the capacity gets the
   * render thread's CPU ms per frame. The avatar must be loaded (preload).
   */
  async probeRender(avatarId: string, frames = 40): Promise<number | null> {
    const entry = this.#loaded.get(avatarId);
    if (!entry) throw new Error(`avatar ${avatarId} is not loaded`);
    const ms = await entry.pack.probe(frames);
    if (ms === null) return null;
    this.capacity.setProbe(ms);
    return ms;
  }

  /** Avatars with a loaded renderer, least recently used first. */
  get loadedAvatarIds(): string[] {
    return [...this.#loaded.keys()];
  }

  /** The avatar's renderer: where it runs, its CPU time so far, and how many sessions share it; null if not loaded. */
  renderStats(avatarId: string): { thread: 'worker' | 'main'; threads: number; cpuS: number | null; sessions: number } | null {
    const entry = this.#loaded.get(avatarId);
    if (!entry) return null;
    return { ...entry.pack.figures, sessions: entry.users };
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** The sessions now running. */
  list(): AvatarSession[] {
    return [...this.#sessions.values()];
  }

  get(id: string): AvatarSession | undefined {
    return this.#sessions.get(id);
  }

  /** Loads an avatar's renderer now (startup); a pinned avatar is never released while the manager lives. */
  async preload(avatarId: string, opts: { pin?: boolean } = {}): Promise<void> {
    const entry = await this.#acquire(avatarId);
    if (opts.pin) entry.pinned = true;
    this.#release(entry);
  }

  async create(avatarId: string, opts: { life?: boolean } = {}): Promise<AvatarSession> {
    if (this.#closed) throw new Error('server is shutting down');
    const running = this.#sessions.size + this.#creating;
    if (running >= this.#opts.maxSessions) throw new SessionLimitError(`session limit reached (${this.#opts.maxSessions})`);
    const admission = this.capacity.admit(running);
    if (!admission.ok) throw new CapacityError(admission.message, admission.retryAfterS);
    this.#creating++;
    let entry: LoadedAvatar | undefined;
    try {
      if (!(await this.#avatars.get(avatarId))) throw new UnknownAvatarError(`unknown avatar '${avatarId.slice(0, 64)}' (GET /api/avatars lists them)`);
      entry = await this.#acquire(avatarId);
      // One render thread per session of this avatar, up to one per core: streams of one avatar never queue
      // behind each other in one thread.
      const threads = Math.min(entry.users, this.#opts.maxRenderThreadsPerAvatar ?? this.capacity.cores);
      entry.pack.growTo(threads).catch((err: unknown) => log.warn({ err, avatarId }, 'could not add a render thread'));
      // Stages are per session (each has its own plan and idle seed); the renderer is shared.
      const stages = entry.pack.stages({ seed: this.#sessions.size + this.#creating + Date.now(), life: opts.life, headRate: this.#opts.headRate });
      const session = await AvatarSession.create(this.#pool.pick(), stages, { ...this.#defaults, avatarId, avatar: entry.portrait });
      if (this.#closed) {
        await session.close();
        throw new Error('server is shutting down');
      }
      this.#sessions.set(session.id, session);
      const used = entry;
      entry = undefined; // released by the session from now on
      session.onClose = () => {
        this.#sessions.delete(session.id);
        this.#release(used);
      };
      log.info({ session: session.id, avatarId }, 'session created');
      return session;
    } finally {
      this.#creating--;
      if (entry) this.#release(entry);
    }
  }

  async end(id: string): Promise<boolean> {
    const session = this.#sessions.get(id);
    if (!session) return false;
    await session.close();
    return true;
  }

  /** Closes the sessions, then every renderer. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.capacity.stop();
    await Promise.all([...this.#sessions.values()].map((s) => s.close()));
    await Promise.allSettled([...this.#loading.values()]);
    for (const entry of this.#loaded.values()) this.#unload(entry);
    this.#loaded.clear();
    await Promise.allSettled([...this.#releasing]);
  }

  async #acquire(id: string): Promise<LoadedAvatar> {
    for (;;) {
      const hit = this.#loaded.get(id);
      if (hit) {
        hit.users++;
        this.#loaded.delete(id);
        this.#loaded.set(id, hit);
        this.#evict();
        return hit;
      }
      let loading = this.#loading.get(id);
      if (!loading) {
        loading = this.#load(id).finally(() => this.#loading.delete(id));
        this.#loading.set(id, loading);
      }
      const entry = await loading;
      if (this.#closed) {
        this.#unload(entry);
        throw new Error('server is shutting down');
      }
      // The first waiter to wake adds it; nothing can release it in between (it is in neither map).
      if (!entry.released && !this.#loaded.has(id)) this.#loaded.set(id, entry);
    }
  }

  async #load(id: string): Promise<LoadedAvatar> {
    const t0 = performance.now();
    const avatar = await this.#avatars.load(id);
    const pack = await this.#pack.load(avatar);
    if (this.#closed) {
      await pack.close();
      throw new Error('server is shutting down');
    }
    log.info({ avatarId: id, ms: Math.round(performance.now() - t0) }, 'avatar loaded');
    return { id, pack, portrait: avatar, users: 0, pinned: false, released: false };
  }

  #release(entry: LoadedAvatar): void {
    entry.users = Math.max(0, entry.users - 1);
    this.#evict();
  }

  /** Drops least recently used, unused, unpinned avatars while over the bound. */
  #evict(): void {
    for (const entry of this.#loaded.values()) {
      if (this.#loaded.size <= this.#opts.maxLoadedAvatars) return;
      if (entry.users > 0 || entry.pinned) continue;
      this.#loaded.delete(entry.id);
      this.#unload(entry);
    }
  }

  #unload(entry: LoadedAvatar): void {
    if (entry.released) return;
    entry.released = true;
    log.info({ avatarId: entry.id }, 'avatar unloaded');
    const closing = entry.pack
      .close()
      .catch((err: unknown) => log.warn({ err, avatarId: entry.id }, 'renderer close failed'))
      .finally(() => this.#releasing.delete(closing));
    this.#releasing.add(closing);
  }
}
