/**
 * Pagination cursors: opaque and tamper-evident. A cursor is the DynamoDB key a listing stopped
 * at, sealed with AES-256-GCM under a key derived (HKDF) from a configured secret, and bound to the
 * listing it continues (owner and kind, as additional authenticated data). A cursor that was forged,
 * altered, issued for another listing or under another secret does not open: 400 invalid_cursor,
 * never a DynamoDB ValidationException.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError, type Config } from '../shared/config';
import { InvalidCursorError } from '../shared/errors/http';
import { AWS_CLIENT_TIMEOUTS } from './dynamo';

/** Seals and opens cursors. */
export interface CursorCodec {
  /** The cursor continuing `scope` after `key`. */
  seal(key: Record<string, unknown>, scope: string): Promise<string>;
  /** The key a cursor continues after, or InvalidCursorError. */
  open(cursor: string, scope: string): Promise<Record<string, unknown>>;
}

/** Format version (first byte), so the format can change without misreading old cursors. */
const FORMAT = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** The shortest secret accepted: 32 characters. */
const MIN_CURSOR_SECRET_LENGTH = 32;

/** A codec over a secret fetched once (on first use) and kept for the process's life. */
export function cursorCodec(secret: () => Promise<string>): CursorCodec {
  let derived: Promise<Buffer> | undefined;
  const key = (): Promise<Buffer> =>
    (derived ??= secret().then(
      (value) => {
        if (value.length < MIN_CURSOR_SECRET_LENGTH) throw new ConfigError(`The cursor secret must have at least ${MIN_CURSOR_SECRET_LENGTH} characters`);
        return Buffer.from(hkdfSync('sha256', value, 'slipway', 'cursor aes-256-gcm v1', 32));
      },
      (error: unknown) => {
        derived = undefined; // a failed fetch is tried again by the next request
        throw error;
      },
    ));
  return {
    async seal(value, scope) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', await key(), iv);
      cipher.setAAD(Buffer.from(scope));
      const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
      return Buffer.concat([Buffer.from([FORMAT]), iv, body, cipher.getAuthTag()]).toString('base64url');
    },
    async open(cursor, scope) {
      const aesKey = await key();
      const raw = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url') : Buffer.alloc(0);
      if (raw.length < 1 + IV_BYTES + TAG_BYTES + 2 || raw[0] !== FORMAT) throw new InvalidCursorError();
      try {
        const decipher = createDecipheriv('aes-256-gcm', aesKey, raw.subarray(1, 1 + IV_BYTES));
        decipher.setAAD(Buffer.from(scope));
        decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
        const text = Buffer.concat([decipher.update(raw.subarray(1 + IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8');
        const value = JSON.parse(text) as unknown;
        if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not a key');
        return value as Record<string, unknown>;
      } catch (error) {
        throw new InvalidCursorError({ cause: error });
      }
    },
  };
}

/**
 * The cursor codec configuration describes: `CURSOR_SECRET` inline (local runs, tests), or the
 * Secrets Manager secret `CURSOR_SECRET_NAME` (on AWS; read once per container, on first use, so
 * functions that never page never call Secrets Manager). Without either, paging is a configuration error.
 */
export function cursorCodecFromConfig(config: Config): CursorCodec {
  if (config.CURSOR_SECRET) {
    const inline = config.CURSOR_SECRET;
    return cursorCodec(async () => inline);
  }
  const name = config.CURSOR_SECRET_NAME;
  if (name) {
    let client: SecretsManagerClient | undefined;
    return cursorCodec(async () => {
      client ??= new SecretsManagerClient({ region: config.AWS_REGION, requestHandler: { ...AWS_CLIENT_TIMEOUTS } });
      const out = await client.send(new GetSecretValueCommand({ SecretId: name }));
      if (!out.SecretString) throw new ConfigError(`Secret ${name} holds no cursor secret`);
      return out.SecretString;
    });
  }
  return cursorCodec(async () => {
    throw new ConfigError('Missing configuration: CURSOR_SECRET or CURSOR_SECRET_NAME (the key that seals pagination cursors)');
  });
}
