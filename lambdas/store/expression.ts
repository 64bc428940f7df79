/** Update expressions built from plain attribute maps, so no use case writes DynamoDB expression text. */

/** An update expression with its names and values, applied only while the claim is ours. */
export interface InstanceUpdate {
  set?: Record<string, unknown>;
  remove?: string[];
}

/** An item update: attributes to set, numbers to add to (negative to subtract) and attributes to remove. */
export interface ItemUpdate extends InstanceUpdate {
  add?: Record<string, number>;
}

/** Build `SET a = :a, … ADD n :n … REMOVE b, …` with placeholder names for every attribute. */
export function updateExpression(update: ItemUpdate): { expression: string; names: Record<string, string>; values: Record<string, unknown> } {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const sets = Object.entries(update.set ?? {}).map(([attr, value], i) => {
    names[`#s${i}`] = attr;
    values[`:s${i}`] = value;
    return `#s${i} = :s${i}`;
  });
  const adds = Object.entries(update.add ?? {}).map(([attr, value], i) => {
    names[`#a${i}`] = attr;
    values[`:a${i}`] = value;
    return `#a${i} :a${i}`;
  });
  const removes = [...new Set(update.remove ?? [])].map((attr, i) => {
    names[`#r${i}`] = attr;
    return `#r${i}`;
  });
  const expression = [sets.length ? `SET ${sets.join(', ')}` : '', adds.length ? `ADD ${adds.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : '']
    .filter(Boolean)
    .join(' ');
  return { expression, names, values };
}
