// The default pack as the session layer sees it (cascade/types.ts AvatarPack): an enrolled avatar loads into a
// shared renderer (its render threads), each session gets its own stages on it, and the capacity's probe renders a
// talking face on it.
import type { AvatarPack, PackAvatar, SessionStageOptions } from '../../cascade/types.ts';
import { createDefaultStages } from './cascade-stages.ts';
import { coefficientVector } from './coefficients.ts';
import { DefaultRenderer } from './renderer.ts';
import type { EnrolledAvatar } from './types.ts';

class DefaultPackAvatar implements PackAvatar {
  readonly #renderer: DefaultRenderer;

  constructor(renderer: DefaultRenderer) {
    this.#renderer = renderer;
  }

  stages(opts: SessionStageOptions) {
    // Live sessions encode I420 only: no RGB copy.
    return createDefaultStages(this.#renderer, { seed: opts.seed, life: opts.life, rgb: false, headRate: opts.headRate });
  }

  growTo(threads: number): Promise<void> {
    return this.#renderer.growTo(threads);
  }

  async probe(frames: number): Promise<number | null> {
    const r = this.#renderer;
    const c = coefficientVector({ jawOpen: 0.4, lipSpread: 0.2, smile: 0.3, headYaw: 0.3, headPitch: -0.2, headRoll: 0.1, neckSway: 0.3, breathe: 0.5 });
    const jaw = r.coefficientNames.indexOf('jawOpen');
    const yaw = r.coefficientNames.indexOf('headYaw');
    // The mouth and the head move every frame, as while talking: no render is a reuse of the last.
    const run = (i: number) => {
      c[jaw] = 0.1 + (i % 8) / 10;
      c[yaw] = 0.3 * Math.sin(i / 5);
      return r.render(c, { rgb: false });
    };
    for (let i = 0; i < 5; i++) await run(i); // warm
    const cpu0 = r.cpuSeconds;
    for (let i = 0; i < frames; i++) await run(i);
    const cpu1 = r.cpuSeconds;
    if (cpu0 === null || cpu1 === null) return null;
    return ((cpu1 - cpu0) * 1000) / frames;
  }

  get figures() {
    return { thread: this.#renderer.thread, threads: this.#renderer.threads, cpuS: this.#renderer.cpuSeconds };
  }

  close(): Promise<void> {
    return this.#renderer.close();
  }
}

export const defaultPack: AvatarPack<EnrolledAvatar> = {
  name: 'default',
  async load(avatar) {
    return new DefaultPackAvatar(await DefaultRenderer.create(avatar, { intraOpThreads: 1 }));
  },
};
