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
