import { SFNClient } from '@aws-sdk/client-sfn';

/** An SDK client for a local Step Functions endpoint (any credentials do; signatures are not checked). */
export function localSfnClient(endpoint: string, region = 'us-east-1'): SFNClient {
  return new SFNClient({
    endpoint,
    region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
}

/** A handler-side checkpoint a test can await (`entered`) and then let through (`open`). */
export interface Gate {
  /** Resolves once a handler reached `pass()`. */
  entered: Promise<void>;
  /** Await this in a handler: marks the gate entered and waits until the test opens it. */
  pass(): Promise<void>;
  open(): void;
}

/** A closed gate. */
export function gate(): Gate {
  let markEntered!: () => void;
  let open!: () => void;
  const entered = new Promise<void>((resolve) => {
    markEntered = resolve;
  });
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return {
    entered,
    pass: () => {
      markEntered();
      return opened;
    },
    open,
  };
}

/** A provider method held at a gate, and how to put the method back. */
export interface HeldCalls extends Gate {
  /** Put the original method back (later calls go straight through). */
  restore(): void;
}

/**
 * Hold `method`'s calls at a gate before they reach the provider (every call until `restore()`, or
 * only the next with `once`), so a test can act while an operation is on its way: cancel it, crash it.
 */
export function holdCalls<P extends object, K extends keyof P>(provider: P, method: K, options: { once?: boolean } = {}): HeldCalls {
  const held = gate();
  const original = provider[method];
  const call = (original as unknown as (...args: unknown[]) => Promise<unknown>).bind(provider);
  const restore = () => {
    provider[method] = original;
  };
  provider[method] = (async (...args: unknown[]) => {
    if (options.once) restore();
    await held.pass();
    return call(...args);
  }) as P[K];
  return { ...held, restore };
}
