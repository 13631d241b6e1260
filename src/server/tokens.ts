// Signed session tokens: base64url(JSON claims) + "." + base64url(HMAC-SHA256).
import { createHmac, timingSafeEqual } from 'node:crypto';

export type TokenRole = 'publisher' | 'viewer' | 'ingest';

export interface TokenClaims {
  /** Session id. */
  sid: string;
  role: TokenRole;
  /** Expiry, Unix seconds. */
  exp: number;
}

export class TokenError extends Error {
  override name = 'TokenError';
}

export class TokenSigner {
  readonly #secret: string;
  readonly #ttlS: number;

  constructor(secret: string, ttlS: number) {
    this.#secret = secret;
    this.#ttlS = ttlS;
  }

  sign(sid: string, role: TokenRole, nowS = Math.floor(Date.now() / 1000)): string {
    const body = Buffer.from(JSON.stringify({ sid, role, exp: nowS + this.#ttlS } satisfies TokenClaims)).toString('base64url');
    return `${body}.${this.#mac(body)}`;
  }

  /** Throws TokenError unless the token is genuine, unexpired, for this session and role. */
  verify(token: string, sid: string, roles: readonly TokenRole[], nowS = Math.floor(Date.now() / 1000)): TokenClaims {
    const [body, mac, extra] = token.split('.');
    if (!body || !mac || extra !== undefined) throw new TokenError('malformed token');
    const want = Buffer.from(this.#mac(body));
    const got = Buffer.from(mac);
    if (want.length !== got.length || !timingSafeEqual(want, got)) throw new TokenError('bad token signature');
    let claims: TokenClaims;
    try {
      claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as TokenClaims;
    } catch {
      throw new TokenError('malformed token');
    }
    if (typeof claims.exp !== 'number' || claims.exp < nowS) throw new TokenError('token expired');
    if (claims.sid !== sid) throw new TokenError('token is for another session');
    if (!roles.includes(claims.role)) throw new TokenError(`token role ${claims.role} not allowed here`);
    return claims;
  }

  #mac(body: string): string {
    return createHmac('sha256', this.#secret).update(body).digest('base64url');
  }
}
