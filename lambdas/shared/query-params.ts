/** Query parameters with exact rules, shared by every listing's query schema. */
import * as z from 'zod';

/**
 * A page size: decimal digits only, no sign, no leading zero, 1..max. `Number()` would also take
 * `1e2`, `0x10`, ` 5` and `''`; a page size spelled any other way is a mistake worth a 400.
 */
export function pageLimit(defaultValue: number, max: number) {
  return z
    .string()
    .regex(/^[1-9][0-9]{0,5}$/, `a whole number from 1 to ${max}, in decimal digits`)
    .transform(Number)
    .pipe(z.number().int().min(1).max(max))
    .optional()
    .transform((value) => value ?? defaultValue)
    .meta({ description: `Page size, 1 to ${max}; decimal digits only`, type: 'integer', minimum: 1, maximum: max, default: defaultValue });
}
