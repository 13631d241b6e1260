// Overlay figures computed from the recv RTCPeerConnection's stats plus the server's ServerStats.
import type { ServerStats } from '../../signaling/protocol';

export interface OverlayStats {
  /** Video frames decoded per second on this page (framesDecoded delta). */
  fps: number | null;
  /** Inbound video bitrate, kbit/s (bytesReceived delta). */
  videoKbps: number | null;
  /** Audio jitter buffer delay, ms (jitterBufferDelay / jitterBufferEmittedCount over the last interval). */
  audioJitterBufferMs: number | null;
  /** Video jitter buffer delay, ms (same formula, video track). */
  videoJitterBufferMs: number | null;
  /** Server pipeline latency, ms (ServerStats.pipelineLatencyMs). */
  serverLatencyMs: number | null;
  /** Estimated glass-to-glass, ms: serverLatencyMs + videoJitterBufferMs. */
  glassToGlassMs: number | null;
  /** Frames per second leaving the server's pacer (ServerStats.fps). */
  serverFps: number | null;
  /** Encoded video bitrate at the server, kbit/s (ServerStats.videoKbps). */
  serverVideoKbps: number | null;
  /** Received video size. */
  frameWidth: number | null;
  frameHeight: number | null;
  /** performance.now() of the last update. */
  updatedAt: number | null;
}

export function emptyStats(): OverlayStats {
  return {
    fps: null,
    videoKbps: null,
    audioJitterBufferMs: null,
    videoJitterBufferMs: null,
    serverLatencyMs: null,
    glassToGlassMs: null,
    serverFps: null,
    serverVideoKbps: null,
    frameWidth: null,
    frameHeight: null,
    updatedAt: null,
  };
}

interface InboundSample {
  timestamp: number;
  framesDecoded?: number;
  bytesReceived?: number;
  jitterBufferDelay?: number;
  jitterBufferEmittedCount?: number;
  frameWidth?: number;
  frameHeight?: number;
}

function pickInbound(report: RTCStatsReport, kind: 'audio' | 'video'): InboundSample | null {
  let found: InboundSample | null = null;
  report.forEach((s: Record<string, unknown>) => {
    if (s.type !== 'inbound-rtp') return;
    if ((s.kind ?? s.mediaType) !== kind) return;
    found = s as unknown as InboundSample;
  });
  return found;
}

/** Average jitter buffer delay in ms over the interval (falls back to the running average). */
function jitterMs(cur: InboundSample, prev: InboundSample | null): number | null {
  const d = cur.jitterBufferDelay;
  const n = cur.jitterBufferEmittedCount;
  if (d === undefined || n === undefined || n <= 0) return null;
  if (prev && prev.jitterBufferDelay !== undefined && prev.jitterBufferEmittedCount !== undefined) {
    const dn = n - prev.jitterBufferEmittedCount;
    if (dn > 0) return ((d - prev.jitterBufferDelay) / dn) * 1000;
  }
  return (d / n) * 1000;
}

/** Keeps the previous sample so rates can be computed from deltas. */
export class StatsTracker {
  private prevVideo: InboundSample | null = null;
  private prevAudio: InboundSample | null = null;
  private server: ServerStats | null = null;
  current: OverlayStats = emptyStats();

  setServerStats(s: ServerStats): void {
    this.server = s;
    this.current = { ...this.current, ...this.serverPart(this.current.videoJitterBufferMs) };
  }

  update(report: RTCStatsReport | null): OverlayStats {
    const next = emptyStats();
    const video = report ? pickInbound(report, 'video') : null;
    const audio = report ? pickInbound(report, 'audio') : null;

    if (video) {
      const prev = this.prevVideo;
      const dt = prev ? (video.timestamp - prev.timestamp) / 1000 : 0;
      if (prev && dt > 0) {
        if (video.framesDecoded !== undefined && prev.framesDecoded !== undefined) {
          next.fps = (video.framesDecoded - prev.framesDecoded) / dt;
        }
        if (video.bytesReceived !== undefined && prev.bytesReceived !== undefined) {
          next.videoKbps = ((video.bytesReceived - prev.bytesReceived) * 8) / dt / 1000;
        }
      }
      next.videoJitterBufferMs = jitterMs(video, prev);
      next.frameWidth = video.frameWidth ?? null;
      next.frameHeight = video.frameHeight ?? null;
      // Copy: some browsers reuse stats objects between reports.
      this.prevVideo = { ...video };
    }
    if (audio) {
      next.audioJitterBufferMs = jitterMs(audio, this.prevAudio);
      this.prevAudio = { ...audio };
    }
    Object.assign(next, this.serverPart(next.videoJitterBufferMs));
    next.updatedAt = performance.now();
    this.current = next;
    return next;
  }

  private serverPart(videoJitterBufferMs: number | null): Partial<OverlayStats> {
    const s = this.server;
    if (!s) return {};
    return {
      serverLatencyMs: s.pipelineLatencyMs,
      serverFps: s.fps,
      serverVideoKbps: s.videoKbps,
      glassToGlassMs: videoJitterBufferMs === null ? null : s.pipelineLatencyMs + videoJitterBufferMs,
    };
  }
}
