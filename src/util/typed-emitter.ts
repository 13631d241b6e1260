// A minimal event emitter typed by an event map. Listener errors are caught and logged so a
// faulty listener never breaks the emitter's state (house rule 3). Unlike node's EventEmitter,
// emitting 'error' with no listener does not throw: owners also surface errors in-band.
import { moduleLogger } from '../log.ts';

const log = moduleLogger('util/typed-emitter');

export type EventMap = { [event: string]: unknown[] };
export type Listener<A extends unknown[]> = (...args: A) => void;

export class TypedEmitter<E extends EventMap> {
  #listeners: { [K in keyof E]?: Set<Listener<E[K]>> } = {};

  on<K extends keyof E>(event: K, listener: Listener<E[K]>): this {
    const set = this.#listeners[event] ?? new Set<Listener<E[K]>>();
    set.add(listener);
    this.#listeners[event] = set;
    return this;
  }

  off<K extends keyof E>(event: K, listener: Listener<E[K]>): this {
    this.#listeners[event]?.delete(listener);
    return this;
  }

  listenerCount<K extends keyof E>(event: K): number {
    return this.#listeners[event]?.size ?? 0;
  }

  protected emit<K extends keyof E>(event: K, ...args: E[K]): void {
    const set = this.#listeners[event];
    if (!set) return;
    // Copy so listeners may remove themselves while we iterate.
    for (const listener of [...set]) {
      try {
        listener(...args);
      } catch (err) {
        log.error({ err, event: String(event) }, 'event listener threw');
      }
    }
  }

  protected removeAllListeners(): void {
    this.#listeners = {};
  }
}
