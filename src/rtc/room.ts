// One mediasoup router per session: the publisher's microphone comes in on a WebRTC
// transport and is consumed in-process (DirectTransport); the avatar's video and audio
// are produced in-process (DirectTransport) once, and every viewer consumes them.
import type { types as ms } from 'mediasoup';
import { moduleLogger } from '../log.ts';
import { TypedEmitter } from '../util/typed-emitter.ts';
import { RtcError } from './errors.ts';
import {
  AUDIO_LEVEL_EXTENSION_ID,
  AUDIO_LEVEL_EXTENSION_URI,
  AUDIO_PAYLOAD_TYPE,
  MEDIA_CODECS,
  PLAYOUT_DELAY_EXTENSION_ID,
  PLAYOUT_DELAY_EXTENSION_URI,
  VIDEO_PAYLOAD_TYPE,
  MAX_TRANSPORTS_PER_PEER_DIRECTION,
  type Direction,
  type PeerInfo,
  type RoomEvents,
  type RoomOptions,
} from './types.ts';

const log = moduleLogger('rtc/room');

interface Peer {
  info: PeerInfo;
  transports: Map<string, ms.WebRtcTransport>;
  consumers: Map<string, ms.Consumer>;
}

export interface EgressSsrcs {
  video: number;
  audio: number;
}

export interface TransportDescription {
  id: string;
  iceParameters: ms.IceParameters;
  iceCandidates: ms.IceCandidate[];
  dtlsParameters: ms.DtlsParameters;
}

/** What a room has on its mediasoup worker: rebuilt on a new worker when that one dies (Room.moveTo). */
interface RouterMedia {
  readonly worker: ms.Worker;
  readonly router: ms.Router;
  readonly egress: ms.DirectTransport;
  readonly ingest: ms.DirectTransport;
  readonly video: ms.Producer;
  readonly audio: ms.Producer;
}

async function buildMedia(worker: ms.Worker, ssrcs: EgressSsrcs): Promise<RouterMedia> {
  const router = await worker.createRouter({ mediaCodecs: MEDIA_CODECS });
  try {
    const egress = await router.createDirectTransport({ maxMessageSize: 262_144 });
    const ingest = await router.createDirectTransport({ maxMessageSize: 262_144 });
    const video = await egress.produce({
      kind: 'video',
      rtpParameters: {
        codecs: [
          {
            mimeType: 'video/VP8',
            payloadType: VIDEO_PAYLOAD_TYPE,
            clockRate: 90_000,
            rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
          },
        ],
        // The mediasoup worker forwards it with facecast's patch (scripts/mediasoup-patches/playout-delay.patch).
        headerExtensions: [{ uri: PLAYOUT_DELAY_EXTENSION_URI, id: PLAYOUT_DELAY_EXTENSION_ID }],
        encodings: [{ ssrc: ssrcs.video }],
      },
    });
    const audio = await egress.produce({
      kind: 'audio',
      rtpParameters: {
        codecs: [{ mimeType: 'audio/opus', payloadType: AUDIO_PAYLOAD_TYPE, clockRate: 48_000, channels: 2 }],
        headerExtensions: [{ uri: AUDIO_LEVEL_EXTENSION_URI, id: AUDIO_LEVEL_EXTENSION_ID }],
        encodings: [{ ssrc: ssrcs.audio }],
      },
    });
    return { worker, router, egress, ingest, video, audio };
  } catch (err) {
    router.close();
    throw err;
  }
}

export class Room extends TypedEmitter<RoomEvents> {
  readonly #opts: RoomOptions;
  readonly #ssrcs: EgressSsrcs;
  #media: RouterMedia;
  /** While the room is rebuilt on a new worker: the old one's producers are gone, packets are dropped. */
  #moving = false;
  readonly #peers = new Map<string, Peer>();
  #micProducer: ms.Producer | null = null;
  #micConsumer: ms.Consumer | null = null;
  #pendingTransports = 0;
  #closed = false;

  private constructor(media: RouterMedia, opts: RoomOptions, ssrcs: EgressSsrcs) {
    super();
    this.#media = media;
    this.#opts = opts;
    this.#ssrcs = ssrcs;
    media.egress.on('rtcp', this.#onEgressRtcp);
  }

  static async create(worker: ms.Worker, opts: RoomOptions, ssrcs: EgressSsrcs): Promise<Room> {
    return new Room(await buildMedia(worker, ssrcs), opts, ssrcs);
  }

  /** The mediasoup worker the room's router lives on. */
  get worker(): ms.Worker {
    return this.#media.worker;
  }

  get videoProducer(): ms.Producer {
    return this.#media.video;
  }

  get audioProducer(): ms.Producer {
    return this.#media.audio;
  }

  /**
   * Rebuilds the room on another worker (its own died): a new router with the same producers (same SSRCs, so the
   * egress's RTP streams go on unchanged). The peers' transports died with the old worker: every peer is removed,
   * and clients reconnect (join again) to the same session.
   */
  async moveTo(worker: ms.Worker): Promise<void> {
    this.#assertOpen();
    this.#moving = true;
    try {
      for (const id of [...this.#peers.keys()]) this.removePeer(id);
      const old = this.#media;
      old.egress.off('rtcp', this.#onEgressRtcp);
      if (!old.router.closed) old.router.close();
      const hadMic = this.#micProducer !== null;
      this.#micProducer = null;
      this.#micConsumer = null;
      const media = await buildMedia(worker, this.#ssrcs);
      if (this.#closed) return void media.router.close();
      this.#media = media;
      media.egress.on('rtcp', this.#onEgressRtcp);
      if (hadMic) this.emit('micProducerClosed');
      this.emit('viewersChanged', 0);
    } finally {
      this.#moving = false;
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  get rtpCapabilities(): ms.RtpCapabilities {
    return this.#media.router.rtpCapabilities;
  }

  get hasPublisher(): boolean {
    return this.#micProducer !== null && !this.#micProducer.closed;
  }

  get viewerCount(): number {
    let n = 0;
    for (const peer of this.#peers.values()) if (peer.consumers.size > 0) n++;
    return n;
  }

  /** Sends one RTP packet of the avatar's video or audio into the router. */
  sendVideoRtp(packet: Buffer): void {
    if (this.#live(this.#media.video)) this.#media.video.send(packet);
  }

  sendAudioRtp(packet: Buffer): void {
    if (this.#live(this.#media.audio)) this.#media.audio.send(packet);
  }

  sendEgressRtcp(packet: Buffer): void {
    if (!this.#closed && !this.#moving && !this.#media.egress.closed) this.#media.egress.sendRtcp(packet);
  }

  /** Packets go out only while the producer lives (a dead worker closes it; a move replaces it). */
  #live(producer: ms.Producer): boolean {
    return !this.#closed && !this.#moving && !producer.closed;
  }

  addPeer(info: PeerInfo): void {
    this.#assertOpen();
    if (this.#peers.has(info.id)) throw new RtcError('forbidden', `peer ${info.id} already joined`);
    this.#peers.set(info.id, { info, transports: new Map(), consumers: new Map() });
  }

  async createTransport(peerId: string, direction: Direction): Promise<TransportDescription> {
    const peer = this.#peer(peerId);
    if (direction === 'send' && peer.info.role !== 'publisher') {
      throw new RtcError('forbidden', 'only the publisher may create a send transport');
    }
    const mine = [...peer.transports.values()].filter((t) => t.appData.direction === direction).length;
    if (mine >= MAX_TRANSPORTS_PER_PEER_DIRECTION) {
      throw new RtcError('limit', `a peer may hold ${MAX_TRANSPORTS_PER_PEER_DIRECTION} ${direction} transports at once: close one (or leave and join again) first`);
    }
    // Counted with the ones being made, so that concurrent requests cannot overshoot.
    if (this.transportCount + this.#pendingTransports >= this.#opts.maxTransports) {
      throw new RtcError('limit', `this session has ${this.#opts.maxTransports} transports open, its share of the server's RTC ports: no more until a viewer leaves`);
    }
    this.#pendingTransports++;
    let transport: ms.WebRtcTransport;
    try {
      transport = await this.#createWebRtcTransport(direction);
    } finally {
      this.#pendingTransports--;
    }
    if (!this.#peers.has(peerId)) {
      // The peer left while the transport was being made.
      transport.close();
      throw new RtcError('closed', 'peer left');
    }
    peer.transports.set(transport.id, transport);
    transport.observer.once('close', () => peer.transports.delete(transport.id));
    transport.on('dtlsstatechange', (state) => {
      if (state === 'failed' || state === 'closed') log.warn({ peerId, transportId: transport.id, state }, 'transport DTLS ended');
    });
    return {
      id: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
    };
  }

  /** WebRTC transports open now, all peers. */
  get transportCount(): number {
    let n = 0;
    for (const peer of this.#peers.values()) n += peer.transports.size;
    return n;
  }

  #createWebRtcTransport(direction: Direction): Promise<ms.WebRtcTransport> {
    return this.#media.router.createWebRtcTransport({
      listenIps: [{ ip: this.#opts.listenIp, announcedIp: this.#opts.announcedIp }],
      enableUdp: true,
      enableTcp: true,
      preferUdp: true,
      initialAvailableOutgoingBitrate: this.#opts.initialAvailableOutgoingBitrate,
      appData: { direction },
    });
  }

  async connectTransport(peerId: string, transportId: string, dtlsParameters: ms.DtlsParameters): Promise<void> {
    await this.#transport(peerId, transportId).connect({ dtlsParameters });
  }

  /** The publisher's microphone. One per session: a second is refused. */
  async produceMic(peerId: string, transportId: string, rtpParameters: ms.RtpParameters): Promise<string> {
    const peer = this.#peer(peerId);
    if (peer.info.role !== 'publisher') throw new RtcError('forbidden', 'viewers cannot produce');
    if (this.hasPublisher) throw new RtcError('producer-exists', 'this session already has a microphone producer');
    const transport = this.#transport(peerId, transportId);
    if (transport.appData.direction !== 'send') throw new RtcError('forbidden', 'produce needs a send transport');
    const producer = await transport.produce({ kind: 'audio', rtpParameters });
    if (this.hasPublisher) {
      producer.close();
      throw new RtcError('producer-exists', 'this session already has a microphone producer');
    }
    this.#micProducer = producer;
    const consumer = await this.#media.ingest.consume({ producerId: producer.id, rtpCapabilities: this.#media.router.rtpCapabilities });
    this.#micConsumer = consumer;
    consumer.on('rtp', (packet) => this.emit('micRtp', packet));
    producer.observer.on('close', () => {
      if (this.#micProducer === producer) {
        this.#micProducer = null;
        this.#micConsumer = null;
        this.emit('micProducerClosed');
      }
    });
    log.info({ peerId, producerId: producer.id }, 'microphone producer');
    return producer.id;
  }

  async consume(peerId: string, transportId: string, rtpCapabilities: ms.RtpCapabilities) {
    const peer = this.#peer(peerId);
    const transport = this.#transport(peerId, transportId);
    if (transport.appData.direction !== 'recv') throw new RtcError('forbidden', 'consume needs a recv transport');
    const out = [];
    for (const producer of [this.videoProducer, this.audioProducer]) {
      if (!this.#media.router.canConsume({ producerId: producer.id, rtpCapabilities })) {
        throw new RtcError('unsupported', `client cannot receive ${producer.kind} (needs VP8 and Opus)`);
      }
      const consumer = await transport.consume({ producerId: producer.id, rtpCapabilities, paused: true });
      peer.consumers.set(consumer.id, consumer);
      consumer.observer.on('close', () => {
        peer.consumers.delete(consumer.id);
        this.emit('viewersChanged', this.viewerCount);
      });
      out.push({ id: consumer.id, producerId: producer.id, kind: consumer.kind, rtpParameters: consumer.rtpParameters });
    }
    this.emit('viewersChanged', this.viewerCount);
    return out;
  }

  async resumeConsumers(peerId: string): Promise<void> {
    const peer = this.#peer(peerId);
    for (const consumer of peer.consumers.values()) {
      await consumer.resume();
      // A new viewer needs a keyframe; the encoder's GOP bounds the wait (see media/).
      if (consumer.kind === 'video') await consumer.requestKeyFrame().catch(() => undefined);
    }
  }

  /** Closes everything the peer owns; idempotent. */
  removePeer(peerId: string): void {
    const peer = this.#peers.get(peerId);
    if (!peer) return;
    this.#peers.delete(peerId);
    for (const t of peer.transports.values()) t.close();
    if (peer.consumers.size > 0) this.emit('viewersChanged', this.viewerCount);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const id of [...this.#peers.keys()]) this.removePeer(id);
    this.#media.egress.off('rtcp', this.#onEgressRtcp);
    if (!this.#media.router.closed) this.#media.router.close();
    this.removeAllListeners();
  }

  readonly #onEgressRtcp = (packet: Buffer): void => {
    this.emit('egressRtcp', packet);
  };

  #assertOpen(): void {
    if (this.#closed) throw new RtcError('closed', 'session room is closed');
  }

  #peer(peerId: string): Peer {
    this.#assertOpen();
    const peer = this.#peers.get(peerId);
    if (!peer) throw new RtcError('forbidden', 'join first');
    return peer;
  }

  #transport(peerId: string, transportId: string): ms.WebRtcTransport {
    const transport = this.#peer(peerId).transports.get(transportId);
    if (!transport) throw new RtcError('unknown-transport', `no transport ${transportId} for this peer`);
    return transport;
  }
}
