/**
 * The operator console's escape hatches, as data: each names the audited admin route it calls,
 * the page that offers it and the path parameters that page cannot supply. The console sends the
 * reason as `{ "reason": … }` in the body (or as `?reason=` for a DELETE, which carries no body)
 * and refuses to send it without one. A new audited route joins the console with one entry here.
 */
import { SWEEP_NAMES } from '../../sweeps/registry';
import type { RouteSpec } from '../route';
import { deleteVolumeRoute, recoverInstanceRoute, releaseRoute, runSweepRoute, settleInstanceRoute } from '../routes';
import type { HatchPage, HatchView } from './manifest';

/** One escape hatch. */
export interface EscapeHatch {
  id: string;
  label: string;
  page: HatchPage;
  route: RouteSpec;
  /** Path parameters fixed by the hatch (which sweep it runs). */
  fixedParams?: Record<string, string>;
  /** What it does, shown before the operator confirms. */
  description: string;
  /** Where the reason travels: the JSON body, or the query string of a DELETE. */
  reasonIn?: 'body' | 'query';
}

/** Every escape hatch the console offers. */
export const ESCAPE_HATCHES: readonly EscapeHatch[] = [
  {
    id: 'release-reservation',
    label: 'Release the reservation',
    page: 'owner',
    route: releaseRoute,
    description: "Release the owner's unresolved reservation so it may provision again. Refused while its provision still runs.",
  },
  {
    id: 'settle-instance',
    label: 'Settle now',
    page: 'instance',
    route: settleInstanceRoute,
    description: "Settle this instance now by the reconcile sweep's rules, whatever its due time.",
  },
  {
    id: 'force-recovery',
    label: 'Force a recovery',
    page: 'instance',
    route: recoverInstanceRoute,
    description: 'Recover this running instance now onto a volume forked from its current one and a new machine; the cooldown does not apply. Refused while another operation holds it, and for a stopped instance (a recovery ends running).',
  },
  {
    id: 'delete-retained-volume',
    label: 'Delete this volume now',
    page: 'volume',
    route: deleteVolumeRoute,
    reasonIn: 'query',
    description: 'Delete this retained volume before its date, after proving again that it is this instance\'s (an attached machine of the instance is destroyed first). Refused while a recovery uses it.',
  },
  ...SWEEP_NAMES.map(
    (name): EscapeHatch => ({
      id: `run-sweep-${name}`,
      label: `Run the ${name} sweep`,
      page: 'attention',
      route: runSweepRoute,
      fixedParams: { name },
      description: `Run the ${name} sweep now over everything due; answers what it did, item by item.`,
    }),
  ),
];

/** The hatches as the console receives them. */
export function hatchViews(): HatchView[] {
  return ESCAPE_HATCHES.map((hatch) => ({
    id: hatch.id,
    label: hatch.label,
    page: hatch.page,
    method: hatch.route.method,
    path: hatch.route.path,
    fixedParams: hatch.fixedParams ?? {},
    description: hatch.description,
    reasonIn: hatch.reasonIn ?? 'body',
  }));
}
