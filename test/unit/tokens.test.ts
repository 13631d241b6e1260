import { describe, expect, it } from 'vitest';
import { TokenError, TokenSigner } from '../../src/server/tokens.ts';

describe('TokenSigner', () => {
  const signer = new TokenSigner('a-secret-of-enough-length', 3600);

  it('accepts its own token for the right session and role', () => {
    const t = signer.sign('s1', 'viewer', 1000);
    expect(signer.verify(t, 's1', ['viewer', 'publisher'], 1001)).toMatchObject({ sid: 's1', role: 'viewer' });
  });

  it('refuses another session, another role, expiry, tampering and garbage', () => {
    const t = signer.sign('s1', 'viewer', 1000);
    expect(() => signer.verify(t, 's2', ['viewer'], 1001)).toThrow(/another session/);
    expect(() => signer.verify(t, 's1', ['publisher'], 1001)).toThrow(/role/);
    expect(() => signer.verify(t, 's1', ['viewer'], 1000 + 3601)).toThrow(/expired/);
    const [body, mac] = t.split('.');
    const forged = Buffer.from(JSON.stringify({ sid: 's1', role: 'publisher', exp: 99_999 })).toString('base64url');
    expect(() => signer.verify(`${forged}.${mac}`, 's1', ['publisher'], 1001)).toThrow(TokenError);
    expect(() => signer.verify(`${body}.x${mac.slice(1)}`, 's1', ['viewer'], 1001)).toThrow(/signature/);
    expect(() => signer.verify('garbage', 's1', ['viewer'])).toThrow(TokenError);
    expect(() => new TokenSigner('another-secret-entirely', 3600).verify(t, 's1', ['viewer'], 1001)).toThrow(TokenError);
  });
});
