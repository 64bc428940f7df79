/**
 * What a sweep run answers (the run's report, the body of `POST /v1/admin/sweeps/{name}`), the
 * same shape for every sweep.
 */
import * as z from 'zod';

/** What one run did, item by item. */
export const sweepReportSchema = z
  .object({
    sweep: z.string(),
    runId: z.string(),
    ran: z.boolean().meta({ description: 'False when another run held the lease' }),
    heldBy: z.string().nullable().meta({ description: 'Who held the lease when this run found it held (runtime/boot/run); null when this run took it' }),
    tookOver: z.string().nullable().meta({ description: 'The lease of a dead boot of this runtime that this run took over, if any' }),
    describeCalls: z.number().int().meta({ description: 'DescribeExecution calls this run made (the cost of settling claims on evidence)' }),
    deferred: z.number().int().meta({ description: 'Due items left for the next run because this one reached its time budget' }),
    startedAt: z.string(),
    finishedAt: z.string(),
    due: z.number().int(),
    itemsRead: z.number().int(),
    oldestDueAgeSeconds: z.number().nullable(),
    actions: z.array(z.object({ target: z.string(), action: z.string(), detail: z.string().optional() })),
    orphans: z.array(z.object({ provider: z.string(), kind: z.enum(['machine', 'volume']), id: z.string(), instanceId: z.string(), action: z.enum(['destroyed', 'too-young', 'failed']), detail: z.string().optional() })),
    errors: z.array(z.object({ target: z.string(), error: z.string() })),
    inventory: z
      .object({
        pages: z.number().int().meta({ description: 'Listing pages asked of the providers' }),
        listed: z.number().int().meta({ description: 'Machines not running the listings returned' }),
        instancesRead: z.number().int().meta({ description: 'Instance items read for them (BatchGet)' }),
        candidates: z.number().int().meta({ description: 'Running instances whose machine the listing showed not running (each read by id)' }),
        audited: z.boolean().meta({ description: 'Whether this run was also the full audit (every `FLEET_AUDIT_SECONDS`)' }),
      })
      .nullable()
      .meta({ description: 'The fleet inventory of this run (null when it did not get to it)' }),
  })
  .meta({ id: 'SweepReport' });
export type SweepReport = z.infer<typeof sweepReportSchema>;

/** A sweep run's report before it has done anything (every sweep starts from the same one). */
export function newSweepReport(sweep: string, runId: string, startedAt: Date): SweepReport {
  return {
    sweep,
    runId,
    ran: false,
    heldBy: null,
    tookOver: null,
    describeCalls: 0,
    deferred: 0,
    startedAt: startedAt.toISOString(),
    finishedAt: '',
    due: 0,
    itemsRead: 0,
    oldestDueAgeSeconds: null,
    actions: [],
    orphans: [],
    errors: [],
    inventory: null,
  };
}
