import { describe, expect, it } from 'vitest';
import * as media from '../../src/media/index.ts';
import { TypedEmitter } from '../../src/util/typed-emitter.ts';

class Ticker extends TypedEmitter<{ tick: [number]; done: [] }> {
  fire(n: number): void {
    this.emit('tick', n);
  }
}

describe('TypedEmitter', () => {
  it('delivers to every listener even when one throws, and off() removes the same function', () => {
    const t = new Ticker();
    const seen: number[] = [];
    const bad = (): void => {
      throw new Error('listener bug');
    };
    const good = (n: number): void => {
      seen.push(n);
    };
    t.on('tick', bad).on('tick', good);
    t.fire(1);
    t.off('tick', good);
    t.fire(2);
    expect(seen).toEqual([1]);
    expect(t.listenerCount('tick')).toBe(1);
  });
});

describe('media index', () => {
  it('exposes the public parts', () => {
    for (const name of ['Vp8Encoder', 'RtpStreamSender', 'OpusChunkEncoder', 'Vp8Packetizer', 'Vp8Depacketizer', 'IvfParser', 'parseRtcp', 'parseRtpPacket', 'buildSenderReport']) {
      expect(typeof (media as Record<string, unknown>)[name], name).toBe('function');
    }
  });
});
