// The media folder's public surface: encode, packetize and send RTP/RTCP for one session.
export * from './errors.ts';
export * from './types.ts';
export {
  RTP_HEADER_SIZE,
  RTP_VERSION,
  mediaTimeToRtpTimestamp,
  nextSequenceNumber,
  parseRtpPacket,
  randomSequenceNumber,
  randomUint32,
  sequenceDelta,
  writeRtpPacket,
} from './rtp.ts';
export type { RtpHeaderExtension, RtpHeaderFields, RtpPacket } from './rtp.ts';
export {
  DEFAULT_MAX_PAYLOAD_SIZE,
  VP8_CLOCK_RATE,
  VP8_DESCRIPTOR_SIZE,
  Vp8Depacketizer,
  Vp8Packetizer,
  isVp8Keyframe,
  packetizeVp8,
  parseVp8PayloadDescriptor,
} from './vp8-packetizer.ts';
export type { Vp8DepacketizedFrame, Vp8PayloadDescriptor } from './vp8-packetizer.ts';
export {
  OPUS_CLOCK_RATE,
  OPUS_FMTP,
  OPUS_SAMPLES_PER_PACKET,
  OPUS_SDP_CHANNELS,
  OpusChunkEncoder,
  parseOpusToc,
} from './opus-rtp.ts';
export type { OpusChunkEncoderOptions, OpusPayload, OpusToc } from './opus-rtp.ts';
export {
  NTP_UNIX_OFFSET_S,
  buildFir,
  buildNack,
  buildPli,
  buildSenderReport,
  mediaTimeToNtp,
  parseRtcp,
  unixMsToNtp,
} from './rtcp.ts';
export type {
  MediaClockAnchor,
  NtpTimestamp,
  RtcpFir,
  RtcpNack,
  RtcpOther,
  RtcpPli,
  RtcpRecord,
  RtcpSenderReport,
  SenderReportFields,
} from './rtcp.ts';
export { IVF_FILE_HEADER_SIZE, IVF_FRAME_HEADER_SIZE, IvfParser, writeIvf } from './ivf.ts';
export type { IvfFrame, IvfHeader } from './ivf.ts';
export { VP8_ENCODER_DECLARED_LATENCY_US, Vp8Encoder, ffmpegVp8Args, normalizeVp8EncoderOptions } from './vp8-encoder.ts';
export type {
  EncodedVideoFrame,
  NormalizedVp8EncoderOptions,
  Vp8EncoderEvents,
  Vp8EncoderOptions,
  Vp8EncoderStats,
} from './vp8-encoder-types.ts';
export { RtpStreamSender } from './rtp-sender.ts';
export type { EncodedMediaFrame, RtpCodec, RtpStreamSenderOptions, RtpStreamSenderStats } from './rtp-sender-types.ts';
