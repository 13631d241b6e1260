// Named errors of the rtc layer, so callers branch on classes, not messages.
export class RtcError extends Error {
  override name = 'RtcError';
  constructor(
    readonly code: 'unknown-transport' | 'producer-exists' | 'unsupported' | 'forbidden' | 'closed' | 'limit',
    message: string,
  ) {
    super(message);
  }
}
