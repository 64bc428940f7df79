import type { ComputeProvider } from '../../lambdas/providers/compute-provider';

type Method = Exclude<keyof ComputeProvider, 'name'>;

/** A provider whose chosen calls take longer, set and changed while a test runs. */
export function slowProvider(inner: ComputeProvider, delays: Partial<Record<Method, number>>): ComputeProvider {
  return new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const delay = delays[property as Method];
        if (delay) await new Promise((resolve) => setTimeout(resolve, delay));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
