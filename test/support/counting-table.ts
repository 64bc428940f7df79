/**
 * A table client that counts what goes through it: the keys written (Put/Update/Delete, each item
 * of a TransactWrite or BatchWrite) and the items read (Get, each key of a BatchGet, each Query
 * page's items). For tests and the bench that must show what a sweep costs, not only what it did.
 */
import { BatchGetCommand, BatchWriteCommand, DeleteCommand, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

type Key = { pk?: unknown; sk?: unknown };
const keyName = (key: Key | undefined) => `${String(key?.pk)}/${String(key?.sk)}`;

/** The written keys of one command (empty for a read). */
function writtenKeys(command: unknown): string[] {
  if (command instanceof PutCommand) return [keyName(command.input.Item as Key)];
  if (command instanceof UpdateCommand || command instanceof DeleteCommand) return [keyName(command.input.Key as Key)];
  if (command instanceof TransactWriteCommand) {
    return (command.input.TransactItems ?? []).flatMap((item) => {
      if (item.Put) return [keyName(item.Put.Item as Key)];
      if (item.Update) return [keyName(item.Update.Key as Key)];
      if (item.Delete) return [keyName(item.Delete.Key as Key)];
      return [];
    });
  }
  if (command instanceof BatchWriteCommand) {
    return Object.values(command.input.RequestItems ?? {}).flatMap((requests) => requests.map((r) => keyName((r.PutRequest?.Item ?? r.DeleteRequest?.Key) as Key)));
  }
  return [];
}

/** Wrap `db`: the same client, with `writes()` (keys, in order) and `reads()` (items read). */
export function countingTable(db: DynamoDBDocumentClient): { db: DynamoDBDocumentClient; writes: () => string[]; reads: () => number } {
  const writes: string[] = [];
  let reads = 0;
  const counted = new Proxy(db, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver) as unknown;
      return async (command: unknown, ...rest: unknown[]) => {
        writes.push(...writtenKeys(command));
        const out = (await (target.send as (...args: unknown[]) => Promise<unknown>).call(target, command, ...rest)) as Record<string, unknown>;
        if (command instanceof GetCommand) reads += out?.Item ? 1 : 0;
        if (command instanceof BatchGetCommand) reads += Object.values((out?.Responses ?? {}) as Record<string, unknown[]>).reduce((sum, items) => sum + items.length, 0);
        if (command instanceof QueryCommand) reads += ((out?.Items ?? []) as unknown[]).length;
        return out;
      };
    },
  });
  return { db: counted, writes: () => [...writes], reads: () => reads };
}
