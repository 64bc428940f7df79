import { RECONCILE, runReconcile } from './sweep';
import { scheduledSweepHandler } from '../scheduled';
import { providersFromConfig } from '../../providers/configured';
import { lambdaHandler } from '../../composition/deps';

/** Run the sweep once per scheduled invocation (nothing but `{ "sweep": "reconcile" }` is accepted). */
export const createHandler = scheduledSweepHandler(RECONCILE, 'Reconcile', (deps) => runReconcile(deps));

/** The Lambda entry (EventBridge Scheduler, every minute). */
export const handler = lambdaHandler(createHandler, providersFromConfig);
