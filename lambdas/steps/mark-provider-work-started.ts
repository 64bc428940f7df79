import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionFailed, keys } from '../adapters/dynamo';
import { ReservationLostError } from '../shared/errors';
import { defineStep } from './define-step';
import { fencedStepInput } from './schemas';

/**
 * Move the owner's reservation from `admitted` to `provider_work_started`, fenced by the instance
 * it was admitted for. Idempotent: a retry finds it already moved. Returns the reservation version
 * (the fencing token later steps carry and tag resources with).
 */
export const step = defineStep('MarkProviderWorkStarted', fencedStepInput, async (deps, input) => {
  try {
    const out = await deps.db.send(
      new UpdateCommand({
        TableName: deps.tableName,
        Key: keys.reservation(input.owner),
        UpdateExpression: 'SET #status = :started, updatedAt = :now',
        ConditionExpression: 'instanceId = :instanceId AND #status IN (:admitted, :started)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':started': 'provider_work_started', ':admitted': 'admitted', ':instanceId': input.instanceId, ':now': deps.now().toISOString() },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return { version: Number(out.Attributes?.version) };
  } catch (error) {
    if (isConditionFailed(error)) throw new ReservationLostError(`The reservation of ${input.owner} no longer belongs to ${input.instanceId}.`, { cause: error });
    throw error;
  }
});

export const { handler, createHandler } = step;
