/**
 * Counts what DynamoDB charges: a middleware on the runtime's client asks every call for its
 * consumed capacity (`ReturnConsumedCapacity: INDEXES`) and adds it up, table and indexes apart,
 * in total and per command.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Capacity units of one kind of call. */
export interface Units {
  writeUnits: number;
  readUnits: number;
  /** Of the write units, those spent on index entries. */
  indexWriteUnits: number;
}

/** Capacity units consumed while recording. */
export interface CapacityTally extends Units {
  /** Calls by command name. */
  calls: Record<string, number>;
  /** Units by command name. */
  byCommand: Record<string, Units>;
}

interface Consumed {
  CapacityUnits?: number;
  WriteCapacityUnits?: number;
  ReadCapacityUnits?: number;
  GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number; WriteCapacityUnits?: number; ReadCapacityUnits?: number }>;
}

const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'TransactWriteItemsCommand', 'BatchWriteItemCommand']);

const empty = (): CapacityTally => ({ writeUnits: 0, readUnits: 0, indexWriteUnits: 0, calls: {}, byCommand: {} });

/** What one response says it consumed. */
export function unitsOf(command: string, consumed: Consumed | Consumed[] | undefined): Units {
  const units: Units = { writeUnits: 0, readUnits: 0, indexWriteUnits: 0 };
  for (const each of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
    const indexes = Object.values(each.GlobalSecondaryIndexes ?? {}).reduce((sum, index) => sum + (index.WriteCapacityUnits ?? index.CapacityUnits ?? 0), 0);
    if (WRITES.has(command)) {
      units.writeUnits += each.WriteCapacityUnits ?? each.CapacityUnits ?? 0;
      units.indexWriteUnits += indexes;
    } else {
      units.readUnits += each.ReadCapacityUnits ?? each.CapacityUnits ?? 0;
    }
  }
  return units;
}

/** A recorder on one client; `take()` returns what was consumed since the last take. */
export interface CapacityMeter {
  take(): CapacityTally;
}

const meters = new WeakMap<DynamoDBDocumentClient, CapacityMeter>();

/** Attach a recorder to a client (once: later calls share it). */
export function recordCapacity(db: DynamoDBDocumentClient): CapacityMeter {
  const existing = meters.get(db);
  if (existing) return existing;
  let tally = empty();
  db.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      input.ReturnConsumedCapacity = 'INDEXES';
      const out = await next(args);
      const command = context.commandName ?? 'unknown';
      const units = unitsOf(command, (out.output as { ConsumedCapacity?: Consumed | Consumed[] }).ConsumedCapacity);
      tally.calls[command] = (tally.calls[command] ?? 0) + 1;
      const mine = (tally.byCommand[command] ??= { writeUnits: 0, readUnits: 0, indexWriteUnits: 0 });
      for (const key of ['writeUnits', 'readUnits', 'indexWriteUnits'] as const) {
        tally[key] += units[key];
        mine[key] += units[key];
      }
      return out;
    },
    { step: 'initialize', name: 'benchConsumedCapacity' },
  );
  const meter: CapacityMeter = {
    take() {
      const taken = tally;
      tally = empty();
      return taken;
    },
  };
  meters.set(db, meter);
  return meter;
}
