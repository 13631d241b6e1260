// Owns the sessions (a Map; each forgets itself when it closes), the worker pool and the
// enrolled built-in avatar's renderer, which sessions share (one onnxruntime session per
// model, many streams).
import { moduleLogger } from '../log.ts';
import type { WorkerPool } from '../rtc/worker-pool.ts';
import type { PackStages } from '../cascade/types.ts';
import { AvatarSession, type SessionOptions } from './session.ts';

const log = moduleLogger('session/manager');

export class SessionLimitError extends Error {
  override name = 'SessionLimitError';
}

export class UnknownAvatarError extends Error {
  override name = 'UnknownAvatarError';
}

export interface AvatarEntry {
  readonly id: string;
  readonly stages: PackStages;
  /** What the API lists about the avatar (size, face and mouth boxes in output pixels). */
  readonly info: Readonly<Record<string, unknown>>;
}

export class SessionManager {
  readonly #pool: WorkerPool;
  readonly #avatars = new Map<string, AvatarEntry>();
  readonly #sessions = new Map<string, AvatarSession>();
  readonly #defaults: Omit<SessionOptions, 'avatarId'>;
  readonly #maxSessions: number;
  #closed = false;

  constructor(pool: WorkerPool, defaults: Omit<SessionOptions, 'avatarId'>, maxSessions: number) {
    this.#pool = pool;
    this.#defaults = defaults;
    this.#maxSessions = maxSessions;
  }

  addAvatar(entry: AvatarEntry): void {
    this.#avatars.set(entry.id, entry);
  }

  get avatars(): { id: string; info: Readonly<Record<string, unknown>> }[] {
    return [...this.#avatars.values()].map((a) => ({ id: a.id, info: a.info }));
  }

  get avatarIds(): string[] {
    return [...this.#avatars.keys()];
  }

  get size(): number {
    return this.#sessions.size;
  }

  get(id: string): AvatarSession | undefined {
    return this.#sessions.get(id);
  }

  async create(avatarId: string): Promise<AvatarSession> {
    if (this.#closed) throw new Error('server is shutting down');
    const avatar = this.#avatars.get(avatarId);
    if (!avatar) throw new UnknownAvatarError(`unknown avatar '${avatarId}' (known: ${this.avatarIds.join(', ')})`);
    if (this.#sessions.size >= this.#maxSessions) throw new SessionLimitError(`session limit reached (${this.#maxSessions})`);
    const session = await AvatarSession.create(this.#pool.pick(), avatar.stages, { ...this.#defaults, avatarId });
    this.#sessions.set(session.id, session);
    session.onClose = () => this.#sessions.delete(session.id);
    log.info({ session: session.id, avatarId }, 'session created');
    return session;
  }

  async end(id: string): Promise<boolean> {
    const session = this.#sessions.get(id);
    if (!session) return false;
    await session.close();
    return true;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#sessions.values()].map((s) => s.close()));
  }
}
