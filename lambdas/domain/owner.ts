import { z } from 'zod';

/** An owner: a user (`user:<sub>`) or an organisation (`org:<id>`). */
export const ownerSchema = z
  .string()
  .regex(/^(user|org):[A-Za-z0-9._@|:-]{1,128}$/, 'must be user:<id> or org:<id>');
export type Owner = z.infer<typeof ownerSchema>;

/** The owner key of a token subject. */
export function userOwner(sub: string): Owner {
  return `user:${sub}`;
}
