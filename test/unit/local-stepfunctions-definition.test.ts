import { prepareDefinition } from '../../infra/local/stepfunctions/definition';

const task = (fn: string, extra: Record<string, unknown> = {}) => ({
  Type: 'Task',
  Resource: `arn:aws:lambda:us-east-1:000000000000:function:${fn}`,
  ...extra,
});

describe('preparing a definition for the local endpoint', () => {
  it('scales retry pauses and caps, keeping backoff, attempts and jitter as written, in nested states too', () => {
    // Arrange
    const definition = {
      StartAt: 'Fan',
      States: {
        Fan: {
          Type: 'Parallel',
          Branches: [
            {
              StartAt: 'Inner',
              States: {
                Inner: task('inner', {
                  Retry: [{ ErrorEquals: ['ProviderUnavailable'], IntervalSeconds: 2, BackoffRate: 2, MaxAttempts: 4, MaxDelaySeconds: 8, JitterStrategy: 'FULL' }],
                  End: true,
                }),
              },
            },
          ],
          Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 1 }],
          End: true,
        },
      },
    };

    // Act
    const prepared = prepareDefinition('fan', JSON.stringify(definition), 0.01);

    // Assert
    const fan = prepared.runtimeDefinition.States.Fan!;
    expect(fan.Retry).toEqual([{ ErrorEquals: ['States.ALL'], MaxAttempts: 1, IntervalSeconds: 0.01 }]);
    expect(fan.Branches?.[0]?.States.Inner?.Retry).toEqual([
      { ErrorEquals: ['ProviderUnavailable'], IntervalSeconds: 0.02, BackoffRate: 2, MaxAttempts: 4, MaxDelaySeconds: 0.08, JitterStrategy: 'FULL' },
    ]);
    expect([...prepared.states.keys()]).toEqual(['Fan', 'Inner']);
  });

  it('gives Tasks without TimeoutSeconds the longest timeout a timer allows instead of the library default of 60 s', () => {
    // Arrange
    const definition = { StartAt: 'A', States: { A: task('a', { Next: 'B' }), B: task('b', { TimeoutSeconds: 30, End: true }) } };

    // Act
    const prepared = prepareDefinition('timeouts', JSON.stringify(definition), 1);

    // Assert
    expect(prepared.runtimeDefinition.States.A?.TimeoutSeconds).toBe(2147483);
    expect(prepared.runtimeDefinition.States.B?.TimeoutSeconds).toBe(30);
    expect(prepared.states.get('A')?.TimeoutSeconds).toBeUndefined();
  });

  it('drops ResultPath "$", which the library would read as a field named "$"', () => {
    // Arrange
    const definition = {
      StartAt: 'A',
      States: {
        A: task('a', { ResultPath: '$', Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$', Next: 'B' }], Next: 'B' }),
        B: { Type: 'Pass', ResultPath: '$.kept', End: true },
      },
    };

    // Act
    const prepared = prepareDefinition('paths', JSON.stringify(definition), 1);

    // Assert
    expect(prepared.runtimeDefinition.States.A).not.toHaveProperty('ResultPath');
    expect(prepared.runtimeDefinition.States.A?.Catch).toEqual([{ ErrorEquals: ['States.ALL'], Next: 'B' }]);
    expect(prepared.runtimeDefinition.States.B?.ResultPath).toBe('$.kept');
  });

  it('refuses text that is not JSON, an invalid definition and a state name used twice', () => {
    // Arrange
    const duplicate = {
      StartAt: 'P',
      States: {
        P: { Type: 'Parallel', Branches: [{ StartAt: 'Same', States: { Same: { Type: 'Pass', End: true } } }], Next: 'Same' },
        Same: { Type: 'Pass', End: true },
      },
    };

    // Act / Assert
    expect(() => prepareDefinition('broken', '{', 1)).toThrow('State machine broken: definition is not JSON');
    expect(() => prepareDefinition('invalid', JSON.stringify({ StartAt: 'Missing', States: {} }), 1)).toThrow(/^State machine invalid: /);
    expect(() => prepareDefinition('dup', JSON.stringify(duplicate), 1)).toThrow(/^State machine dup: .*Same/s);
  });
});
