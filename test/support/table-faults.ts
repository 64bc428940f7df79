/**
 * Faults at the DynamoDB boundary, for steps whose only side effect is a table write (a provider
 * write, a commit): a middleware on the runtime's client throws, once, for the next command that
 * matches. It runs before the SDK's retries, so the step sees one clean failure with a stable name.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Which command to fail: its name (`UpdateItemCommand`, `TransactWriteItemsCommand`…) and its input. */
export type TableCallMatcher = (commandName: string, input: Record<string, unknown>) => boolean;

/** The error a table fault throws: named, so the ASL's Catch sees it and no retrier matches it. */
export class InjectedTableFault extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InjectedTableFault';
  }
}

interface Scripted {
  match: TableCallMatcher;
  remaining: number;
}

const scripts = new WeakMap<DynamoDBDocumentClient, Scripted[]>();

/** Fail the next `times` (default 1) table calls that match. */
export function failNextTableCall(db: DynamoDBDocumentClient, match: TableCallMatcher, times = 1): void {
  let queue = scripts.get(db);
  if (!queue) {
    queue = [];
    scripts.set(db, queue);
    const own = queue;
    db.middlewareStack.add(
      (next, context) => async (args) => {
        const commandName = context.commandName ?? 'unknown';
        const input = args.input as Record<string, unknown>;
        const hit = own.find((script) => script.match(commandName, input));
        if (hit) {
          hit.remaining -= 1;
          if (hit.remaining <= 0) own.splice(own.indexOf(hit), 1);
          throw new InjectedTableFault(`injected fault on ${commandName}`);
        }
        return next(args);
      },
      { step: 'initialize', name: 'testTableFaults' },
    );
  }
  queue.push({ match, remaining: times });
}

/** Whether an input's text mentions `needle` (an attribute name, a key prefix). */
export function mentions(input: Record<string, unknown>, needle: string): boolean {
  return JSON.stringify(input).includes(needle);
}
