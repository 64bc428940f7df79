/**
 * What the operator console learns from the API when it signs in (`GET /v1/admin/console`): the
 * workflows it can list, the escape hatches it may offer and the attention subjects it names.
 * Shapes only; the data lives beside what it describes.
 */
import * as z from 'zod';

/** Where the console offers a hatch; each page supplies these path parameters. */
export const HATCH_PAGES = {
  /** The instance page: `id` and `owner`. */
  instance: ['id', 'owner'],
  /** The owner page: `owner`. */
  owner: ['owner'],
  /** The attention page: nothing. */
  attention: [],
  /** A retained volume's row on the instance page: `volumeId`, `id` and `owner`. */
  volume: ['volumeId', 'id', 'owner'],
} as const;
export type HatchPage = keyof typeof HATCH_PAGES;

/** A hatch as the console receives it. */
export const hatchViewSchema = z
  .object({
    id: z.string(),
    label: z.string(),
    page: z.enum(Object.keys(HATCH_PAGES) as [HatchPage, ...HatchPage[]]),
    method: z.enum(['get', 'post', 'put', 'delete']),
    path: z.string().meta({ description: 'OpenAPI path template, e.g. /v1/admin/instances/{id}/settle' }),
    fixedParams: z.record(z.string(), z.string()),
    description: z.string(),
    reasonIn: z.enum(['body', 'query']).meta({ description: 'Where the reason travels: the JSON body, or `?reason=` (a DELETE)' }),
  })
  .meta({ id: 'EscapeHatch' });
export type HatchView = z.infer<typeof hatchViewSchema>;

/** `GET /v1/admin/console`. */
export const consoleManifestSchema = z
  .object({
    workflows: z.array(z.string()).meta({ description: 'Workflows with a state machine, in the order the console lists them' }),
    statuses: z.array(z.string()).meta({ description: 'Execution statuses the executions listing filters by' }),
    hatches: z.array(hatchViewSchema),
    attentionSubjects: z.array(z.object({ subject: z.string(), label: z.string(), alarm: z.string().nullable() })),
  })
  .meta({ id: 'ConsoleManifest' });
export type ConsoleManifest = z.infer<typeof consoleManifestSchema>;
