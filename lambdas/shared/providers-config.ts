/**
 * Which compute providers a deployment runs, from the `PROVIDERS` setting (JSON), validated at load:
 * each has a name (what instances record), a kind, the regions and sizes it offers and its own
 * settings. Several of one kind may be configured (two local roots, two Fly apps): switching an
 * instance between providers needs that.
 */
import * as z from 'zod';
import { MACHINE_SIZES } from '../providers/compute-provider';

const providerName = z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, 'lowercase letters, digits and dashes, starting with a letter, at most 31');
const region = z.string().regex(/^[a-z0-9-]{2,32}$/);
const common = {
  name: providerName,
  regions: z.array(region).min(1),
  sizes: z.array(z.enum(MACHINE_SIZES)).min(1).default([...MACHINE_SIZES]),
};

/** A `local` provider: real processes and directories under `root` (the local runtime only). */
export const localProviderSchema = z.strictObject({
  ...common,
  kind: z.literal('local'),
  root: z.string().min(1),
  regions: common.regions.default(['local']),
  /** Snapshot a volume when a machine starts on it, at most daily, as Fly does (so recoveries retain the old volume). */
  dailySnapshots: z.boolean().default(false),
});

/**
 * A Fly Machines provider: one Fly app. Its API token comes from the secret it names, else from the
 * deployment's FLY_TOKEN_SECRET_NAME, or inline (`token`: tests and local runs only).
 */
export const flyProviderSchema = z
  .strictObject({
    ...common,
    kind: z.literal('fly'),
    app: z.string().regex(/^[a-z0-9-]{2,63}$/),
    /** The app's Fly organisation: Fly providers naming the same one can carry volumes between them when an instance switches. */
    org: z.string().regex(/^[a-z0-9-]{1,63}$/).optional(),
    apiUrl: z.url().default('https://api.machines.dev/v1'),
    tokenSecretName: z.string().min(1).optional(),
    token: z.string().min(1).optional(),
  })
  .refine((fly) => fly.tokenSecretName === undefined || fly.token === undefined, { message: 'give tokenSecretName or token, not both' });

/** One configured provider. */
export const providerSettingsSchema = z.discriminatedUnion('kind', [localProviderSchema, flyProviderSchema]);
export type ProviderSettings = z.infer<typeof providerSettingsSchema>;

/** The `PROVIDERS` setting. */
export const providersSettingSchema = z
  .strictObject({ default: providerName, providers: z.array(providerSettingsSchema).min(1) })
  .superRefine((setting, ctx) => {
    const names = setting.providers.map((provider) => provider.name);
    const repeated = names.filter((name, i) => names.indexOf(name) !== i);
    if (repeated.length > 0) ctx.addIssue({ code: 'custom', message: `provider names must be unique; repeated: ${repeated.join(', ')}` });
    if (!names.includes(setting.default)) ctx.addIssue({ code: 'custom', path: ['default'], message: `the default provider "${setting.default}" is not configured (have: ${names.join(', ')})` });
  });
export type ProvidersSetting = z.infer<typeof providersSettingSchema>;

/** What callers may choose from, per provider (never its secrets). */
export const providerOfferingSchema = z
  .object({
    name: z.string(),
    kind: z.enum(['local', 'fly']),
    regions: z.array(z.string()),
    sizes: z.array(z.enum(MACHINE_SIZES)),
    dataGroup: z.string().nullable().meta({ description: 'Providers of one data group carry an instance\'s volume data when it switches between them (local: one host; fly: one organisation); null: none' }),
  })
  .meta({ id: 'Provider' });
export type ProviderOffering = z.infer<typeof providerOfferingSchema>;

/** The offering of a configured provider. */
export function offeringOf(provider: ProviderSettings): ProviderOffering {
  // Every local provider of one runtime shares its host's disk; Fly apps share data within an organisation.
  const dataGroup = provider.kind === 'local' ? 'local' : provider.org ? `fly:${provider.org}` : null;
  return { name: provider.name, kind: provider.kind, regions: provider.regions, sizes: provider.sizes, dataGroup };
}

/** Whether a switch from one provider to another can carry the volume's data. */
export function carriesData(from: ProviderOffering, to: ProviderOffering): boolean {
  return from.dataGroup !== null && from.dataGroup === to.dataGroup;
}
