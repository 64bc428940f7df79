/**
 * Counts what DynamoDB charges: a middleware on the runtime's client asks every call for its
 * consumed capacity (`ReturnConsumedCapacity: INDEXES`) and adds it up, table and indexes apart.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Capacity units consumed while recording. */
export interface CapacityTally {
  writeUnits: number;
  readUnits: number;
  /** Of the write units, those spent on index entries. */
  indexWriteUnits: number;
  /** Calls by command name. */
  calls: Record<string, number>;
}

interface Consumed {
  CapacityUnits?: number;
  WriteCapacityUnits?: number;
  ReadCapacityUnits?: number;
  GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number; WriteCapacityUnits?: number; ReadCapacityUnits?: number }>;
}

const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'TransactWriteItemsCommand', 'BatchWriteItemCommand']);

/** The recorder attached to each client (a client carries one: middleware names are unique). */
const recorders = new WeakMap<DynamoDBDocumentClient, { take(): CapacityTally }>();

/** Attach a recorder to a client (once); `take()` returns what was consumed since the last take. */
export function recordCapacity(db: DynamoDBDocumentClient): { take(): CapacityTally } {
  const existing = recorders.get(db);
  if (existing) return existing;
  let tally: CapacityTally = { writeUnits: 0, readUnits: 0, indexWriteUnits: 0, calls: {} };
  db.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      input.ReturnConsumedCapacity = 'INDEXES';
      const out = await next(args);
      const command = context.commandName ?? 'unknown';
      tally.calls[command] = (tally.calls[command] ?? 0) + 1;
      const consumed = (out.output as { ConsumedCapacity?: Consumed | Consumed[] }).ConsumedCapacity;
      for (const each of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
        const indexes = Object.values(each.GlobalSecondaryIndexes ?? {}).reduce((sum, index) => sum + (index.WriteCapacityUnits ?? index.CapacityUnits ?? 0), 0);
        if (WRITES.has(command)) {
          tally.writeUnits += each.WriteCapacityUnits ?? each.CapacityUnits ?? 0;
          tally.indexWriteUnits += indexes;
        } else {
          tally.readUnits += each.ReadCapacityUnits ?? each.CapacityUnits ?? 0;
        }
      }
      return out;
    },
    { step: 'initialize', name: 'benchConsumedCapacity' },
  );
  const recorder = {
    take() {
      const taken = tally;
      tally = { writeUnits: 0, readUnits: 0, indexWriteUnits: 0, calls: {} };
      return taken;
    },
  };
  recorders.set(db, recorder);
  return recorder;
}
